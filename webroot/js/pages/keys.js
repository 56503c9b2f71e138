// API Keys: create (user, limits, models, expiry, fair admission), show the plaintext once with a copy button, list,
// edit a key's fair-admission settings, delete/disable.

import { get, post, put } from '../api.js';
import { h, field, button, badge, act, pageHead, confirmDialog, copyButton, table, fmtTime, fmtNum, modal } from '../dom.js';
import { modelNames } from './models.js';

export async function render(root) {
  const userId = h('input', { type: 'text', id: 'key-user', required: true, autocomplete: 'off', placeholder: 'e.g. team-search' });
  const rpm = h('input', { type: 'number', id: 'key-rpm', min: '1', step: '1', placeholder: 'default (160)' });
  const tpm = h('input', { type: 'number', id: 'key-tpm', min: '1', step: '1', placeholder: 'no limit' });
  const models = h('select', { id: 'key-models', multiple: true, size: '4' });
  const expires = h('input', { type: 'datetime-local', id: 'key-expires' });
  const priority = h('input', { type: 'number', id: 'key-priority', min: '0', max: '9', step: '1', placeholder: 'default (5)' });
  const concurrent = h('input', { type: 'number', id: 'key-concurrent', min: '1', step: '1', placeholder: 'no limit' });
  const weight = h('input', { type: 'number', id: 'key-weight', min: '1', max: '1000', step: '1', placeholder: '1' });
  const create = h('button', { type: 'submit', class: 'btn', id: 'key-create' }, 'Create key');
  const secretBox = h('div', { id: 'new-key', hidden: true });
  const listBox = h('div', { id: 'key-list' });
  const filter = h('input', { type: 'search', id: 'key-filter', placeholder: 'Filter by user or prefix' });

  const form = h('form', {
    class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { user_id: userId.value.trim() };
      if (rpm.value) body.allowed_rpm = Number(rpm.value);
      if (tpm.value) body.allowed_tpm = Number(tpm.value);
      const chosen = [...models.selectedOptions].map((o) => o.value);
      if (chosen.length) body.models = chosen;
      if (expires.value) body.expires_at = new Date(expires.value).toISOString();
      if (priority.value) body.priority = Number(priority.value);
      if (concurrent.value) body.max_concurrent_requests = Number(concurrent.value);
      if (weight.value) body.queue_weight = Number(weight.value);
      const made = await act(create, () => post('/api/v1/generate_api_key', body), `Key created for ${body.user_id}.`);
      if (made) {
        showSecret(made);
        form.reset();
        await load();
      }
    },
  },
  field('User ID', userId, 'Who the key is for; usage is reported per key and user.'),
  field('Requests per minute', rpm, 'Empty: the gateway default.'),
  field('Tokens per minute', tpm, 'Empty: no token limit.'),
  field('Allowed models', models, 'None selected: every model. Ctrl/⌘-click to pick several.', 'wide-2'),
  field('Expires', expires, 'Empty: never (your local time).'),
  field('Priority', priority, 'When a model is saturated, higher classes (0-9) leave the gateway queue first.'),
  field('Max concurrent requests', concurrent, 'Requests of this key in the gateway at once; more get 429.'),
  field('Queue weight', weight, 'Share of a saturated model when several keys wait (2 = twice the share of 1).'),
  h('div', { class: 'form-actions' }, create));

  function showSecret(made) {
    const value = h('code', { class: 'value', id: 'new-key-value', text: made.api_key });
    secretBox.replaceChildren(h('div', { class: 'secret', role: 'status' },
      h('h2', { text: 'Copy the new key now' }),
      h('p', { class: 'small', text: `This is the only time the key for ${made.user_id || 'this user'} is shown: the gateway keeps only its hash.` }),
      h('div', { class: 'row' }, value, copyButton(made.api_key, 'Copy'),
        button('Done', () => { secretBox.hidden = true; secretBox.replaceChildren(); }, 'btn-ghost btn-sm'))));
    secretBox.hidden = false;
    secretBox.scrollIntoView({ block: 'nearest' });
  }

  let keys = [];
  function draw() {
    const q = filter.value.trim().toLowerCase();
    const rows = keys.filter((k) => !q || String(k.user_id).toLowerCase().includes(q) || String(k.prefix || '').toLowerCase().includes(q));
    const now = Date.now();
    listBox.replaceChildren(table([
      { label: 'ID', key: 'id' },
      { label: 'User', cell: (k) => h('span', { class: 'nowrap', text: k.user_id }) },
      { label: 'Key', cell: (k) => h('span', { class: 'mono nowrap', text: `${k.prefix || ''}…` }) },
      { label: 'Req/min', num: true, cell: (k) => fmtNum(k.allowed_rpm) },
      { label: 'Tokens/min', num: true, cell: (k) => (k.allowed_tpm ? fmtNum(k.allowed_tpm) : '—') },
      { label: 'Models', cell: (k) => (k.models && k.models.length ? k.models.join(', ') : 'all') },
      { label: 'Priority', num: true, cell: (k) => (k.priority ?? 5) },
      { label: 'Max concurrent', num: true, cell: (k) => (k.max_concurrent_requests ? fmtNum(k.max_concurrent_requests) : '—') },
      { label: 'Weight', num: true, cell: (k) => (k.queue_weight ?? 1) },
      {
        label: 'Status',
        cell: (k) => (!k.enabled ? badge('disabled', 'bad')
          : k.expires_at && Date.parse(k.expires_at) < now ? badge('expired', 'warn') : badge('enabled', 'ok')),
      },
      { label: 'Expires', cell: (k) => fmtTime(k.expires_at) },
      { label: 'Created', cell: (k) => fmtTime(k.created_at) },
      { label: 'Last used', cell: (k) => fmtTime(k.last_used_at) },
      {
        label: '',
        class: 'actions',
        cell: (k) => (k.enabled ? h('span', { class: 'nowrap' },
          button('Admission', () => editAdmission(k), 'btn-ghost btn-sm',
            { 'aria-label': `Edit the fair-admission settings of key ${k.id}` }), ' ',
          button('Delete', (e) => remove(k, e.currentTarget), 'btn-danger btn-sm',
            { 'aria-label': `Delete key ${k.id} of ${k.user_id}` })) : ''),
      },
    ], rows.map((k) => ({ ...k, __key: String(k.id) })), q ? 'No key matches.' : 'No API keys yet.'));
  }

  async function load() {
    const data = await get('/api/v1/api_keys');
    keys = Array.isArray(data) ? data : (data && (data.data || data.api_keys)) || [];
    draw();
  }

  function editAdmission(k) {
    const num = (id, attrs, v) => h('input', { type: 'number', id, step: '1', ...attrs, value: v == null ? '' : String(v) });
    const p = num('edit-priority', { min: '0', max: '9', placeholder: 'default (5)' }, k.priority);
    const c = num('edit-concurrent', { min: '1', placeholder: 'no limit' }, k.max_concurrent_requests);
    const w = num('edit-weight', { min: '1', max: '1000', placeholder: '1' }, k.queue_weight);
    const save = h('button', { type: 'submit', class: 'btn' }, 'Save');
    const value = (input) => (input.value.trim() === '' ? null : Number(input.value));
    const dlg = modal(`Fair admission of key ${k.prefix || k.id}…`, h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { priority: value(p), max_concurrent_requests: value(c), queue_weight: value(w) };
        const done = await act(save, () => put(`/api/v1/api_keys/${k.id}`, body).then(() => true),
          `Key ${k.prefix || k.id}: fair-admission settings saved.`);
        if (done) {
          dlg.close();
          await load();
        }
      },
    }, field('Priority', p, '0-9; higher leaves a saturated model\'s queue first. Empty: 5.'),
    field('Max concurrent requests', c, 'Requests in the gateway at once (waiting or in flight). Empty: no limit.'),
    field('Queue weight', w, 'Share when several keys wait. Empty: 1.'),
    h('div', { class: 'dialog-actions' }, button('Cancel', () => dlg.close(), 'btn-ghost'), save)));
    p.focus();
  }

  async function remove(k, btn) {
    const ok = await confirmDialog(`Delete key ${k.prefix || k.id}…?`,
      `Requests with this key of ${k.user_id} are refused from now on. A key that was used is disabled rather than `
      + 'deleted, so its usage history stays.', 'Delete key');
    if (!ok) return;
    const res = await act(btn, () => post('/api/v1/delete_api_key', { user_id: k.user_id, api_key_id: k.id }),
      (r) => (r && r.message) || 'Key deleted.');
    if (res) await load();
  }

  filter.addEventListener('input', draw);
  root.append(
    pageHead('API Keys', 'Keys for the OpenAI-compatible API, each with its own limits. The plaintext is shown once, at creation.'),
    secretBox,
    h('section', { class: 'card', 'aria-labelledby': 'key-create-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'key-create-title', text: 'Create a key' })), form),
    h('section', { class: 'card', 'aria-labelledby': 'key-list-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'key-list-title', text: 'Keys' }),
        h('div', { class: 'row' }, h('label', { for: 'key-filter', class: 'skip', text: 'Filter keys' }), filter,
          button('Refresh', (e) => act(e.currentTarget, load), 'btn-ghost btn-sm'))),
      listBox));

  const [names] = await Promise.all([modelNames(false).catch(() => []), load()]);
  models.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
}
