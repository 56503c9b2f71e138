// Small DOM helpers. Everything from the API goes into the page as text nodes or attribute values, never as HTML.

let ids = 0;

/** A fresh element id, for labels and aria references. */
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * Creates an element. props: class, text, on<event> handlers, dataset, and attributes or properties (value, checked,
 * disabled ... are set as properties, after the children, so a select's value picks among its options).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'disabled', 'selected', 'multiple', 'required', 'open'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  return el;
}

/** Appends children: nodes as they are, anything else as text. */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A labelled form control: the label's for= points at the control's id (the end-to-end test finds fields by label). */
export function field(label, control, hint, extraClass) {
  if (!control.id) control.id = uid('in');
  return h('div', { class: `field${extraClass ? ' ' + extraClass : ''}` },
    h('label', { for: control.id, text: label }),
    control,
    hint ? h('small', { text: hint }) : null);
}

export function button(label, onclick, kind = '', extra = {}) {
  return h('button', { type: 'button', class: `btn ${kind}`.trim(), onclick, ...extra }, label);
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim(), text });
}

/** Shows a short message in the corner: success, or a readable error. */
export function notify(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast ${kind === 'error' ? 'error' : ''}`, role: kind === 'error' ? 'alert' : 'status' },
    message);
  box.append(t);
  while (box.children.length > 3) box.firstElementChild.remove(); // the latest few are enough
  setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4500);
}

/** Runs an async action from a button: disables it meanwhile, reports success or the API's error. */
export async function act(btn, action, success) {
  if (btn) btn.disabled = true;
  try {
    const result = await action();
    if (success) notify(typeof success === 'function' ? success(result) : success);
    return result;
  } catch (e) {
    notify(e.message || String(e), 'error');
    return undefined;
  } finally {
    if (btn) btn.disabled = false;
  }
}

/** Copies text to the clipboard (with a fallback for pages served over plain HTTP on another host). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h('textarea', { class: 'offscreen', readonly: true });
    area.value = text;
    area.style.position = 'fixed';
    area.style.left = '-9999px';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function copyButton(getText, label = 'Copy') {
  const b = button(label, async () => {
    await copyText(typeof getText === 'function' ? getText() : getText);
    b.textContent = 'Copied';
    setTimeout(() => { b.textContent = label; }, 1500);
  }, 'btn-ghost btn-sm copy');
  b.setAttribute('aria-label', `${label} to clipboard`);
  return b;
}

/** A dark code block with a copy button. */
export function codeBlock(text, label) {
  const pre = h('pre', { tabindex: '0' }, h('code', { text }));
  if (label) pre.setAttribute('aria-label', label);
  const box = h('div', { class: 'code' }, pre, copyButton(() => pre.textContent));
  box.setCode = (t) => { pre.firstChild.textContent = t; };
  return box;
}

/** Tabs: [{id, label, render(panel)}]. Returns the element; the first tab is shown. */
export function tabs(items, onChange) {
  const bar = h('div', { class: 'tabs', role: 'tablist' });
  const panel = h('div', { role: 'tabpanel' });
  let current;
  const select = (item) => {
    current = item;
    for (const b of bar.children) b.setAttribute('aria-selected', String(b.dataset.id === item.id));
    clear(panel);
    item.render(panel);
    if (onChange) onChange(item.id);
  };
  for (const item of items) {
    bar.append(h('button', { type: 'button', role: 'tab', dataset: { id: item.id }, onclick: () => select(item) }, item.label));
  }
  const box = h('div', {}, bar, panel);
  box.select = (id) => select(items.find((i) => i.id === id));
  box.refresh = () => current && select(current);
  select(items[0]);
  return box;
}

/** A modal dialog; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = 'Delete', extra) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title', text: title }),
      h('p', { text: message }),
      extra || null,
      h('div', { class: 'dialog-actions' },
        button('Cancel', () => dlg.close('cancel'), 'btn-ghost'),
        button(confirmLabel, () => dlg.close('ok'), 'btn-danger')));
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A modal with arbitrary content; the content's submit button closes it. Returns the dialog element. */
export function modal(title, content) {
  const dlg = h('dialog', { 'aria-label': title }, h('h2', { text: title }), content);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export function table(columns, rows, empty = 'Nothing yet.') {
  const head = h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '', scope: 'col', text: c.label })));
  const body = h('tbody');
  if (!rows.length) {
    body.append(h('tr', {}, h('td', { class: 'empty', colspan: String(columns.length), text: empty })));
  }
  for (const r of rows) {
    body.append(h('tr', { dataset: r.__key ? { key: r.__key } : undefined },
      columns.map((c) => {
        const v = c.cell ? c.cell(r) : r[c.key];
        return h('td', { class: [c.num ? 'num' : '', c.class || ''].join(' ').trim() || null, dataset: { col: c.key || c.label } }, v);
      })));
  }
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), body));
}

// formatting

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function pageHead(title, text, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', { text: title }), text ? h('p', { text }) : null),
    actions.length ? h('div', { class: 'row' }, actions) : null);
}
