// Home: what the gateway is, its health (replicas up and down), and copy-ready client snippets.

import { modelsWithReplicas, get } from '../api.js';
import { h, pageHead, codeBlock, tabs, badge, fmtNum } from '../dom.js';
import { baseUrl, chatBody, curl, python, node } from '../snippets.js';
import { subscribe, ADDRESSES } from '../live.js';
import { replicaHealth } from './models.js';

export async function render(root) {
  const tiles = h('div', { class: 'tiles' });
  const modelsBox = h('div');
  const snippetsBox = h('div');
  const clusterBox = h('div', { id: 'home-cluster' });
  root.append(
    pageHead('Inference Gateway', 'An OpenAI-compatible gateway for your self-hosted vLLM models: API keys with limits, '
      + 'load-aware routing over replicas with fail-over, usage metrics, and this console.'),
    tiles,
    h('div', { class: 'grid grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'home-models' },
        h('div', { class: 'card-head' }, h('h2', { id: 'home-models', text: 'Models and replicas' }),
          h('a', { href: '#/models', class: 'small', text: 'Manage models →' })),
        modelsBox,
        h('h3', { class: 'section-title', text: 'Endpoints' }),
        h('ul', { class: 'endpoints small' },
          [['POST', '/v1/chat/completions', 'chat, streaming or not'], ['POST', '/v1/completions', 'text completion'],
            ['POST', '/v1/embeddings', 'embeddings'], ['GET', '/v1/models', 'the models a key may use'],
            ['GET', '/health', 'gateway health'], ['GET', '/metrics', 'Prometheus metrics']]
            .map(([m, p, d]) => h('li', {}, h('span', { class: 'badge info', text: m }), ' ', h('code', { text: p }), h('span', { class: 'muted', text: ` ${d}` }))))),
      h('section', { class: 'card', 'aria-labelledby': 'home-start' },
        h('div', { class: 'card-head' }, h('h2', { id: 'home-start', text: 'Get started' })),
        h('p', { class: 'small' }, 'Base URL ', h('code', { text: baseUrl() }),
          '. Any OpenAI SDK works: set the base URL and an API key from ', h('a', { href: '#/keys', text: 'API Keys' }), '.'),
        snippetsBox)),
    clusterBox);

  const [models, cluster] = await Promise.all([modelsWithReplicas(), get('/api/v1/cluster').catch(() => null)]);
  drawCluster(clusterBox, cluster);
  const byId = new Map();
  const draw = () => {
    const replicas = models.flatMap((m) => m.replicaList);
    const up = replicas.filter((r) => replicaHealth(r).kind === 'ok').length;
    const down = replicas.length - up;
    const active = models.filter((m) => m.replicaList.some((r) => replicaHealth(r).kind === 'ok')).length;
    tiles.replaceChildren(
      tile('Status', down === 0 && replicas.length > 0 ? 'Healthy' : replicas.length === 0 ? 'No replicas' : 'Degraded',
        `${fmtNum(replicas.length)} replica${replicas.length === 1 ? '' : 's'} registered`, 'home-status'),
      tile('Replicas up', fmtNum(up), 'healthy, breaker not open', 'home-up'),
      tile('Replicas down', fmtNum(down), 'unhealthy, open breaker or not running', 'home-down'),
      tile('Models', fmtNum(models.length), `${fmtNum(active)} with a healthy replica`, 'home-models-count'));
    modelsBox.replaceChildren(models.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: 'Model' }), h('th', { class: 'num', text: 'Up' }), h('th', { text: 'Health' }))),
      h('tbody', {}, models.map((m) => {
        const ok = m.replicaList.filter((r) => replicaHealth(r).kind === 'ok').length;
        const total = m.replicaList.length;
        return h('tr', {},
          h('td', {}, h('span', { class: 'mono', text: m.name })),
          h('td', { class: 'num', text: `${ok} / ${total}` }),
          h('td', {}, total === 0 ? badge('no replicas') : ok === total ? badge('healthy', 'ok')
            : ok > 0 ? badge('degraded', 'warn') : badge('down', 'bad')));
      }))))
      : h('p', { class: 'muted' }, 'No models yet. ', h('a', { href: '#/models', text: 'Add one' }), '.'));
  };
  for (const m of models) for (const r of m.replicaList) byId.set(r.id, r);
  draw();

  const model = (models.find((m) => m.active) || models[0] || { name: 'your-model' }).name;
  const body = chatBody({ model, messages: [{ role: 'user', content: 'Hello!' }] });
  snippetsBox.append(tabs([
    { id: 'curl', label: 'curl', render: (p) => p.append(codeBlock(curl(body), 'curl example')) },
    { id: 'python', label: 'Python', render: (p) => p.append(h('p', { class: 'small muted', text: 'pip install openai' }), codeBlock(python(body), 'Python example')) },
    { id: 'node', label: 'Node.js', render: (p) => p.append(h('p', { class: 'small muted', text: 'npm install openai' }), codeBlock(node(body), 'Node.js example')) },
  ]));

  return subscribe(ADDRESSES.replicas, (state) => {
    const r = byId.get(state.replica_id);
    if (r) {
      r.state = state;
      draw();
    }
  });
}

/** Cluster mode: the gateway instances that act as one, and the leader (nothing outside cluster mode). */
function drawCluster(box, cluster) {
  if (!cluster || !cluster.enabled) return;
  const members = [...cluster.members].sort((a, b) => String(a.instance).localeCompare(String(b.instance)));
  box.replaceChildren(h('section', { class: 'card', 'aria-labelledby': 'home-cluster-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'home-cluster-title', text: 'Cluster' }),
      h('span', { class: 'small muted', text: `${members.length} instance${members.length === 1 ? '' : 's'}, leader ${cluster.leader || 'being chosen'}` })),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: 'Instance' }), h('th', { text: 'Role' }), h('th', { text: 'Event bus' }))),
      h('tbody', {}, members.map((m) => h('tr', { dataset: { instance: m.instance || '' } },
        h('td', {}, h('span', { class: 'mono', text: m.instance || m.node_id }), m.self ? h('span', { class: 'muted', text: ' (this console)' }) : ''),
        h('td', {}, m.leader ? badge('leader', 'ok') : badge('member')),
        h('td', {}, h('span', { class: 'mono small', text: m.event_bus || '—' })))))))));
}

function tile(label, value, sub, id) {
  return h('div', { class: 'tile' }, h('div', { class: 'label', text: label }),
    h('div', { class: 'value', id, text: value }), h('div', { class: 'sub', text: sub }));
}
