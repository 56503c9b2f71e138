// API Keys: create (user, limits, models, expiry), show the plaintext once with a copy button, list, delete/disable.

import { get, post } from '../api.js';
import { h, field, button, badge, act, pageHead, confirmDialog, copyButton, table, fmtTime, fmtNum } from '../dom.js';
import { modelNames } from './models.js';

export async function render(root) {
  const userId = h('input', { type: 'text', id: 'key-user', required: true, autocomplete: 'off', placeholder: 'e.g. team-search' });
  const rpm = h('input', { type: 'number', id: 'key-rpm', min: '1', step: '1', placeholder: 'default (160)' });
  const tpm = h('input', { type: 'number', id: 'key-tpm', min: '1', step: '1', placeholder: 'no limit' });
  const models = h('select', { id: 'key-models', multiple: true, size: '4' });
  const expires = h('input', { type: 'datetime-local', id: 'key-expires' });
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
        cell: (k) => (k.enabled ? button('Delete', (e) => remove(k, e.currentTarget), 'btn-danger btn-sm',
          { 'aria-label': `Delete key ${k.id} of ${k.user_id}` }) : ''),
      },
    ], rows.map((k) => ({ ...k, __key: String(k.id) })), q ? 'No key matches.' : 'No API keys yet.'));
  }

  async function load() {
    const data = await get('/api/v1/api_keys');
    keys = Array.isArray(data) ? data : (data && (data.data || data.api_keys)) || [];
    draw();
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
