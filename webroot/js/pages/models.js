// Models: each model with its replicas and their live state; add and delete models; add a replica by endpoint or
// deploy one on Hyperstack; edit a replica's rate limit; delete. Health and breaker changes arrive over the event
// bus; in-flight and load figures are refreshed every few seconds while the page is visible.

import { get, post, put, del, modelsWithReplicas } from '../api.js';
import {
  h, field, button, badge, notify, act, pageHead, confirmDialog, modal, tabs, fmtNum, clear,
} from '../dom.js';
import { subscribe, ADDRESSES } from '../live.js';
import { PRESETS, DEFAULT_IMAGE, runCommand } from '../presets.js';

const POLL_MS = 5000;

/** How a replica is doing, for badges: {kind: ok|warn|bad|info|'', text}. */
export function replicaHealth(r) {
  if (r.vm_status === 'PENDING') return { kind: 'info', text: 'provisioning' };
  if (r.vm_status === 'FAILED') return { kind: 'bad', text: 'failed' };
  const s = r.state;
  if (!s) return { kind: '', text: 'unknown' };
  if (!s.healthy) return { kind: 'bad', text: 'unhealthy' };
  if (s.breaker === 'open') return { kind: 'bad', text: 'breaker open' };
  if (s.breaker === 'half-open') return { kind: 'warn', text: 'recovering' };
  return { kind: 'ok', text: 'healthy' };
}

function breakerBadge(s) {
  if (!s) return badge('—');
  return badge(s.breaker || '—', s.breaker === 'closed' ? 'ok' : s.breaker === 'open' ? 'bad' : 'warn');
}

function loadText(s) {
  const l = s && s.load;
  if (!l) return '—';
  const kv = l.kv_cache_usage === null || l.kv_cache_usage === undefined ? '' : `, KV ${Math.round(l.kv_cache_usage * 100)}%`;
  return `${fmtNum(l.running)} running · ${fmtNum(l.waiting)} waiting${kv ? ' ·' + kv.slice(1) : ''}`;
}

export async function render(root) {
  const list = h('div', { id: 'model-list', 'aria-live': 'polite' });
  const name = h('input', { type: 'text', id: 'new-model-name', placeholder: 'e.g. NousResearch/Meta-Llama-3.1-8B-Instruct', autocomplete: 'off', list: 'preset-models' });
  const presetList = h('datalist', { id: 'preset-models' }, PRESETS.map((p) => h('option', { value: p.model })));
  const addBtn = h('button', { type: 'submit', class: 'btn', id: 'add-model' }, 'Add model');
  const addForm = h('form', {
    class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      const value = name.value.trim();
      const made = await act(addBtn, () => post('/api/v1/models', { name: value }), (r) => `Model ${r.model_name || value} added.`);
      if (made) {
        name.value = '';
        await refresh(true);
      }
    },
  }, field('Model name', name, 'The Hugging Face id that vLLM serves; clients send it as "model".', 'wide-2'), presetList,
  h('div', { class: 'form-actions' }, addBtn));

  root.append(
    pageHead('Models', 'Every model the gateway routes, with its replicas. A replica is a vLLM server: register one by '
      + 'its endpoint, or deploy a new one on Hyperstack.'),
    h('section', { class: 'card', 'aria-labelledby': 'add-model-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'add-model-title', text: 'Add a model' })), addForm),
    list);

  let models = [];
  let shape = '';
  const replicaRows = new Map(); // replica id -> {replica, cells}

  const structure = (ms) => JSON.stringify(ms.map((m) => [m.id, m.name,
    m.replicaList.map((r) => [r.id, r.endpoint, r.rate_limit, r.vm_status, r.error_message])]));

  async function refresh(force) {
    const fresh = await modelsWithReplicas();
    const s = structure(fresh);
    models = fresh;
    if (force || s !== shape) {
      shape = s;
      draw();
    } else {
      for (const m of models) for (const r of m.replicaList) updateRow(r);
    }
  }

  function draw() {
    replicaRows.clear();
    clear(list);
    if (!models.length) {
      list.append(h('div', { class: 'card empty' }, 'No models yet: add one above.'));
      return;
    }
    for (const m of models) list.append(modelCard(m));
  }

  function modelCard(m) {
    const rows = m.replicaList.map((r) => replicaRow(m, r));
    const up = m.replicaList.filter((r) => replicaHealth(r).kind === 'ok').length;
    return h('section', { class: 'card model', dataset: { model: m.name }, 'aria-label': `Model ${m.name}` },
      h('div', { class: 'card-head' },
        h('div', {},
          h('h2', { class: 'model-name', text: m.name }),
          h('div', { class: 'row small muted' },
            h('span', { text: `ID ${m.id} · ${m.replicaList.length} replica${m.replicaList.length === 1 ? '' : 's'}` }),
            up > 0 ? badge(`${up} up`, 'ok') : badge(m.replicaList.length ? 'none up' : 'no replicas', m.replicaList.length ? 'bad' : ''))),
        h('div', { class: 'row' },
          button('Add replica', () => addReplicaDialog(m), 'btn-sm', { 'aria-label': `Add a replica to ${m.name}` }),
          button('Delete model', (e) => deleteModel(m, e.currentTarget), 'btn-danger btn-sm', { 'aria-label': `Delete model ${m.name}` }))),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {},
          ['ID', 'Endpoint', 'Status', 'Health', 'Breaker', 'In flight', 'Load', 'Rate limit', ''].map((t, i) =>
            h('th', { scope: 'col', class: i === 5 || i === 7 ? 'num' : null, text: t })))),
        h('tbody', {}, rows.length ? rows
          : h('tr', {}, h('td', { colspan: '9', class: 'empty', text: 'No replicas: add one to serve this model.' }))))));
  }

  function replicaRow(m, r) {
    const cells = {
      health: h('td', { dataset: { col: 'health' } }),
      breaker: h('td', { dataset: { col: 'breaker' } }),
      inFlight: h('td', { class: 'num', dataset: { col: 'in-flight' } }),
      load: h('td', { class: 'small', dataset: { col: 'load' } }),
    };
    const endpoint = r.endpoint
      ? h('span', { class: 'mono nowrap', text: r.endpoint })
      : h('span', { class: 'muted', text: r.name ? `VM ${r.name} (no endpoint yet)` : 'no endpoint yet' });
    const status = h('td', {}, badge(r.vm_status || '—', r.vm_status === 'SUCCESS' ? 'ok' : r.vm_status === 'FAILED' ? 'bad' : 'info'),
      r.error_message ? h('div', { class: 'small muted', text: r.error_message }) : null);
    const tr = h('tr', { dataset: { replica: String(r.id) } },
      h('td', { text: String(r.id) }),
      h('td', {}, endpoint, r.vm_id ? h('div', { class: 'small muted', text: `Hyperstack VM ${r.vm_id}${r.flavor_name ? ' · ' + r.flavor_name : ''}` }) : null,
        h('div', { class: 'small muted', text: r.api_key_set ? 'API key set' : 'no API key' })),
      status, cells.health, cells.breaker, cells.inFlight, cells.load,
      h('td', { class: 'num', dataset: { col: 'rate-limit' }, text: r.rate_limit ? `${fmtNum(r.rate_limit)}/min` : 'none' }),
      h('td', { class: 'actions' },
        button('Edit limit', () => editRateLimit(r), 'btn-ghost btn-sm', { 'aria-label': `Edit the rate limit of replica ${r.id}` }), ' ',
        button('Delete', (e) => deleteReplica(m, r, e.currentTarget), 'btn-danger btn-sm', { 'aria-label': `Delete replica ${r.id}` })));
    replicaRows.set(r.id, { replica: r, cells });
    updateRow(r);
    return tr;
  }

  function updateRow(r) {
    const row = replicaRows.get(r.id);
    if (!row) return;
    row.replica = r;
    const health = replicaHealth(r);
    const s = r.state;
    row.cells.health.replaceChildren(badge(health.text, health.kind),
      s && s.last_error && health.kind !== 'ok' ? h('div', { class: 'small muted', text: s.last_error }) : '');
    row.cells.breaker.replaceChildren(breakerBadge(s));
    row.cells.inFlight.textContent = s ? fmtNum(s.in_flight) : '—';
    row.cells.load.textContent = loadText(s);
  }

  async function deleteModel(m, btn) {
    const hasVms = m.replicaList.some((r) => r.vm_id || r.name);
    const ok = await confirmDialog(`Delete ${m.name}?`,
      `The model and its ${m.replicaList.length} replica(s) are removed from the gateway; clients can no longer use it. `
      + 'Cloud VMs created for its replicas may still exist on Hyperstack and keep costing money: '
      + (hasVms ? 'delete each replica with "Also delete its VM" first, or delete the VMs in Hyperstack.' : 'check Hyperstack if you deployed any.'),
      'Delete model');
    if (!ok) return;
    const done = await act(btn, () => del(`/api/v1/models/${m.id}`).then(() => true), `Model ${m.name} deleted.`);
    if (done) await refresh(true);
  }

  async function deleteReplica(m, r, btn) {
    const withVm = h('input', { type: 'checkbox', id: 'delete-vm' });
    const ok = await confirmDialog(`Delete replica ${r.id}?`,
      `The gateway stops routing ${m.name} to ${r.endpoint || r.name || 'this replica'}. `
      + (r.vm_id || r.name ? 'Its cloud VM keeps running (and costing) unless you also delete it.'
        : 'Any cloud VM behind this endpoint keeps running: the gateway only forgets it.'),
      'Delete replica',
      r.vm_id || r.name ? h('label', { class: 'check', for: 'delete-vm' }, withVm, 'Also delete its VM on Hyperstack') : null);
    if (!ok) return;
    const query = withVm.checked ? { delete_vm: 'true' } : undefined;
    const done = await act(btn, () => del(`/api/v1/replicas/${r.id}`, query).then(() => true),
      withVm.checked ? `Replica ${r.id} deleted; its VM is being deleted.` : `Replica ${r.id} deleted.`);
    if (done) await refresh(true);
  }

  function editRateLimit(r) {
    const input = h('input', { type: 'number', min: '1', step: '1', id: 'edit-rate-limit', value: r.rate_limit ? String(r.rate_limit) : '' });
    const save = h('button', { type: 'submit', class: 'btn' }, 'Save');
    const dlg = modal(`Rate limit of replica ${r.id}`, h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        const value = input.value.trim() === '' ? null : Number(input.value);
        const done = await act(save, () => put(`/api/v1/models/replicas/${r.id}`, { rate_limit: value }).then(() => true),
          value ? `Replica ${r.id}: at most ${value} requests per minute.` : `Replica ${r.id}: no rate limit.`);
        if (done) {
          dlg.close();
          await refresh(true);
        }
      },
    }, field('Requests per minute', input, 'How many requests per minute the gateway sends this replica. Empty: no limit.'),
    h('div', { class: 'dialog-actions' }, button('Cancel', () => dlg.close(), 'btn-ghost'), save)));
    input.focus();
  }

  function addReplicaDialog(m) {
    const dlgBody = h('div');
    const dlg = modal(`Add a replica to ${m.name}`, dlgBody);
    const close = () => dlg.close();
    dlgBody.append(tabs([
      { id: 'endpoint', label: 'By endpoint', render: (p) => p.append(endpointForm(m, close)) },
      { id: 'hyperstack', label: 'Deploy a new replica on Hyperstack', render: (p) => p.append(hyperstackForm(m, close)) },
    ]));
    const first = dlgBody.querySelector('input');
    if (first) first.focus();
  }

  function endpointForm(m, close) {
    const endpoint = h('input', { type: 'url', id: 'replica-endpoint', placeholder: 'http://10.0.0.5:8000', required: true, autocomplete: 'off' });
    const rate = h('input', { type: 'number', id: 'replica-rate-limit', min: '1', step: '1', placeholder: 'no limit' });
    const apiKey = h('input', { type: 'password', id: 'replica-api-key', placeholder: 'none', autocomplete: 'off', minlength: '8' });
    const save = h('button', { type: 'submit', class: 'btn', id: 'replica-save' }, 'Add replica');
    return h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { endpoint: endpoint.value.trim() };
        if (rate.value) body.rate_limit = Number(rate.value);
        if (apiKey.value.trim()) body.api_key = apiKey.value.trim();
        const made = await act(save, () => post(`/api/v1/models/${m.id}/replicas`, body),
          (res) => `Replica ${res.replica_id} added to ${m.name}.`);
        if (made) {
          close();
          await refresh(true);
        }
      },
    }, h('div', { class: 'stack' },
      field('Endpoint URL', endpoint, 'The base URL of a running vLLM server (its /v1 is added by the gateway).'),
      field('Rate limit (requests per minute)', rate, 'Optional.'),
      field('vLLM API key', apiKey, 'The --api-key the server was started with, if any. Only the gateway uses it; it is stored encrypted and never shown again.')),
    h('div', { class: 'dialog-actions' }, button('Cancel', close, 'btn-ghost'), save));
  }

  function hyperstackForm(m, close) {
    const inp = (id, props = {}) => h('input', { type: 'text', id, autocomplete: 'off', ...props });
    const vmName = inp('vm-name', { required: true, value: `${m.name.split('/').pop().toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 40)}-1` });
    const env = inp('vm-environment', { required: true, placeholder: 'e.g. default-CANADA-1' });
    const image = inp('vm-image', { required: true, value: DEFAULT_IMAGE });
    const flavor = inp('vm-flavor', { required: true, value: (PRESETS.find((p) => p.model === m.name) || PRESETS[0]).flavor });
    const key = inp('vm-key', { required: true, placeholder: 'your SSH key pair name' });
    const port = h('input', { type: 'number', id: 'vm-port', min: '1', max: '65535', value: '8000', required: true });
    const command = h('textarea', { id: 'vm-run-command', rows: '5', required: true, class: 'mono' });
    const floating = h('input', { type: 'checkbox', id: 'vm-floating-ip', checked: true });
    const rate = h('input', { type: 'number', id: 'vm-rate-limit', min: '1', step: '1', placeholder: 'no limit' });
    const template = h('select', { id: 'vm-template' },
      h('option', { value: '', text: 'Choose a template…' }),
      PRESETS.map((p, i) => h('option', { value: String(i), text: `vLLM: ${p.model}` })));
    const applyTemplate = () => {
      const p = PRESETS[Number(template.value)];
      if (template.value !== '' && p) {
        command.value = runCommand(p, port.value || '8000');
        flavor.value = p.flavor;
      }
    };
    template.addEventListener('change', applyTemplate);
    port.addEventListener('change', () => { if (template.value !== '') applyTemplate(); });
    const preset = PRESETS.findIndex((p) => p.model === m.name);
    if (preset >= 0) {
      template.value = String(preset);
      applyTemplate();
    }
    const save = h('button', { type: 'submit', class: 'btn', id: 'vm-deploy' }, 'Deploy replica');
    return h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        const body = {
          create_vm: true,
          vm_creation_details: {
            name: vmName.value.trim(),
            environment_name: env.value.trim(),
            image_name: image.value.trim(),
            flavor_name: flavor.value.trim(),
            key_name: key.value.trim(),
            port: Number(port.value),
            run_command: command.value.trim(),
            assign_floating_ip: floating.checked,
          },
        };
        if (rate.value) body.rate_limit = Number(rate.value);
        if (apiKey.value.trim()) body.api_key = apiKey.value.trim();
        const made = await act(save, () => post(`/api/v1/models/${m.id}/replicas`, body),
          (res) => `Replica ${res.replica_id} is being deployed; its status updates here.`);
        if (made) {
          close();
          await refresh(true);
        }
      },
    },
    h('div', { class: 'notice info' }, 'The gateway creates the VM with your Hyperstack API key, runs the command on it, and '
      + 'starts routing once vLLM answers. The VM costs money until you delete it.'),
    h('div', { class: 'form' },
      field('VM name', vmName), field('Environment', env), field('Image', image), field('Flavor', flavor),
      field('SSH key name', key), field('Port', port),
      field('Command template', template, 'Fills the run command with the vLLM command of a preset model.', 'wide'),
      field('Run command', command, 'Runs on the VM at first boot.', 'wide'),
      field('Rate limit (requests per minute)', rate, 'Optional.'),
      h('label', { class: 'check', for: 'vm-floating-ip' }, floating, 'Assign a public (floating) IP')),
    h('div', { class: 'dialog-actions' }, button('Cancel', close, 'btn-ghost'), save));
  }

  await refresh(true);

  const offState = subscribe(ADDRESSES.replicas, (state) => {
    const row = replicaRows.get(state.replica_id);
    if (row) updateRow({ ...row.replica, state });
  });
  let reloadTimer = null;
  const offProvisioning = subscribe(ADDRESSES.provisioning, () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => refresh(false).catch(() => {}), 300);
  });
  const poll = setInterval(() => {
    if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) {
      refresh(false).catch((e) => { if (e.status !== 401) notify(e.message, 'error'); });
    }
  }, POLL_MS);
  return () => {
    offState();
    offProvisioning();
    clearInterval(poll);
    clearTimeout(reloadTimer);
    for (const d of document.querySelectorAll('dialog')) d.remove();
  };
}

/** The names of models with a replica that can serve (for the Playground and API Keys pages). */
export async function modelNames(activeOnly) {
  const models = await get('/api/v1/models', activeOnly ? { active: 1 } : undefined);
  return (Array.isArray(models) ? models : (models && models.data) || []).map((m) => m.name || m.id);
}
