// Monitoring: the live panel (the once-a-second summary from the event bus), usage charts over time by model or
// key (GET /api/v1/usage/series), streams resumed on another replica (GET /api/v1/usage/resumed), and every table with paging and CSV export (GET /api/v1/tables/...).

import { get } from '../api.js';
import { h, field, button, act, notify, pageHead, fmtNum, fmtMs, clear, table } from '../dom.js';
import { subscribe, liveHistory, liveByInstance, onStatus, ADDRESSES } from '../live.js';

const PALETTE = ['#4f46e5', '#0ea5e9', '#16a34a', '#f59e0b', '#dc2626', '#9333ea', '#0d9488', '#db2777', '#65a30d', '#475569'];
const RANGES = [
  { id: '1h', label: 'Last hour', seconds: 3600, bucket: 60 },
  { id: '6h', label: 'Last 6 hours', seconds: 6 * 3600, bucket: 300 },
  { id: '24h', label: 'Last 24 hours', seconds: 86400, bucket: 900 },
  { id: '7d', label: 'Last 7 days', seconds: 7 * 86400, bucket: 3600 },
  // older than metrics.retentionDays (default 30), usage comes from hourly aggregates
  { id: '30d', label: 'Last 30 days', seconds: 30 * 86400, bucket: 6 * 3600 },
  { id: '90d', label: 'Last 90 days', seconds: 90 * 86400, bucket: 86400 },
];
const PAGE_SIZE = 25;
const EXPORT_PAGE = 1000;
const EXPORT_MAX_ROWS = 200_000;

function chart(canvas, config) {
  if (!window.Chart) throw new Error('Chart.js did not load.');
  return new window.Chart(canvas, config);
}

function lineOptions(yTitle, extra = {}) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, usePointStyle: true } } },
    scales: {
      x: { ticks: { maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } },
      y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle }, ticks: yTitle === 'seconds' ? {} : { precision: 0 } },
    },
    elements: { point: { radius: 0, hoverRadius: 4 }, line: { tension: 0.25, borderWidth: 2 } },
    ...extra,
  };
}

function timeLabel(ms, withDate) {
  const d = new Date(ms);
  return withDate ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: ms % 60000 ? '2-digit' : undefined });
}

export async function render(root) {
  const charts = [];
  const cleanups = [];
  root.append(pageHead('Monitoring', 'Live traffic, usage over time, and the raw tables.'));

  // ---- live panel
  const liveTiles = h('div', { class: 'tiles', id: 'live-panel' });
  const liveCanvas = h('canvas', { id: 'live-chart', 'aria-label': 'Requests and tokens per second over the last five minutes', role: 'img' });
  const liveState = h('span', { class: 'small muted', id: 'live-state' });
  const liveInstances = h('div', { id: 'live-instances' });
  root.append(h('section', { class: 'card', 'aria-labelledby': 'live-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'live-title', text: 'Live' }), liveState),
    liveTiles,
    h('div', { class: 'chart-box small' }, liveCanvas),
    liveInstances));
  const liveChart = chart(liveCanvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        { label: 'Requests/s', data: [], borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: 'y' },
        { label: 'Errors/s', data: [], borderColor: PALETTE[4], backgroundColor: PALETTE[4], yAxisID: 'y' },
        { label: 'Tokens/s', data: [], borderColor: PALETTE[1], backgroundColor: PALETTE[1], yAxisID: 'y1' },
      ],
    },
    options: lineOptions('requests', {
      elements: { point: { radius: 0, hoverRadius: 4 }, line: { tension: 0, borderWidth: 2 } },
      scales: {
        x: { ticks: { maxTicksLimit: 6, maxRotation: 0 }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'requests' } },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'tokens' } },
      },
    }),
  });
  charts.push(liveChart);

  const tile = (label, value, sub, id) => h('div', { class: 'tile' }, h('div', { class: 'label', text: label }),
    h('div', { class: 'value', id, text: value }), h('div', { class: 'sub', text: sub }));

  // fair admission: requests waiting in the gateway for saturated models, and how long the last second's waits took
  function admissionTile(last) {
    const models = Object.entries((last && last.admission) || {});
    const queued = models.reduce((a, [, m]) => a + (m.queue_length || 0), 0);
    const waits = models.filter(([, m]) => m.waited);
    const longest = waits.reduce((a, [, m]) => Math.max(a, m.wait_ms_max || 0), 0);
    const busiest = models.filter(([, m]) => m.queue_length).map(([name, m]) => `${name} ${fmtNum(m.queue_length)}`);
    return tile('Queued', last ? fmtNum(queued) : '—',
      waits.length ? `longest wait ${fmtMs(longest)}${busiest.length ? `; ${busiest.join(', ')}` : ''}`
        : (busiest.length ? busiest.join(', ') : 'nothing waits'), 'live-queued');
  }

  function drawLive() {
    const hist = liveHistory();
    const last = hist[hist.length - 1];
    const total = hist.reduce((a, s) => a + (s.requests || 0), 0);
    const errors = hist.reduce((a, s) => a + (s.errors || 0), 0);
    const tokens = hist.reduce((a, s) => a + (s.prompt_tokens || 0) + (s.completion_tokens || 0), 0);
    const lastLatency = [...hist].reverse().find((s) => s.latency_ms_p50 !== null && s.latency_ms_p50 !== undefined);
    const window = hist.length ? `in the last ${hist.length} s` : 'waiting for data';
    // several instances (cluster mode): the newest second may not have every instance's summary yet, so the
    // per-second figures add up each live instance's latest summary instead
    const latest = Object.values(liveByInstance()).map((i) => i.last).filter((s) => last && s.ts >= last.ts - 3000);
    const now = latest.length > 1 ? { requests: latest.reduce((a, s) => a + (s.requests || 0), 0),
      in_flight: latest.reduce((a, s) => a + (s.in_flight || 0), 0) } : last;
    liveTiles.replaceChildren(
      tile('Requests/s', now ? fmtNum(now.requests) : '—', 'last second', 'live-rps'),
      tile('Requests', fmtNum(total), window, 'live-total-requests'),
      tile('Errors', fmtNum(errors), window, 'live-errors'),
      tile('Tokens', fmtNum(tokens), window, 'live-tokens'),
      tile('In flight', now ? fmtNum(now.in_flight) : '—', 'now', 'live-in-flight'),
      tile('Latency p50 / p95', lastLatency ? `${fmtMs(lastLatency.latency_ms_p50)}` : '—',
        lastLatency ? `p95 ${fmtMs(lastLatency.latency_ms_p95)}` : 'no requests yet', 'live-latency'),
      admissionTile(last));
    liveChart.data.labels = hist.map((s) => timeLabel(s.ts, false));
    liveChart.data.datasets[0].data = hist.map((s) => s.requests);
    liveChart.data.datasets[1].data = hist.map((s) => s.errors);
    liveChart.data.datasets[2].data = hist.map((s) => (s.prompt_tokens || 0) + (s.completion_tokens || 0));
    liveChart.update('none');
    liveTiles.dataset.updated = String(last ? last.ts : 0);
    drawInstances(window);
  }

  // cluster mode: each gateway instance's share (one instance outside cluster mode: nothing to break down)
  function drawInstances(window) {
    const byInstance = liveByInstance();
    const names = Object.keys(byInstance).sort();
    if (names.length < 2 && !names.some((n) => n !== 'local')) {
      liveInstances.replaceChildren();
      return;
    }
    const rows = names.map((name) => ({ __key: name, name, ...byInstance[name] }));
    liveInstances.replaceChildren(h('h3', { class: 'section-title', text: `By gateway instance (${window})` }),
      table([
        { label: 'Instance', key: 'name', cell: (r) => h('span', { class: 'mono', text: r.name }) },
        { label: 'Requests/s', num: true, cell: (r) => fmtNum(r.last ? r.last.requests : 0) },
        { label: 'Requests', num: true, cell: (r) => fmtNum(r.requests) },
        { label: 'Errors', num: true, cell: (r) => fmtNum(r.errors) },
        { label: 'Tokens', num: true, cell: (r) => fmtNum(r.tokens) },
        { label: 'In flight', num: true, cell: (r) => fmtNum(r.last ? r.last.in_flight : 0) },
        { label: 'p95', num: true, cell: (r) => (r.last && r.last.latency_ms_p95 != null ? fmtMs(r.last.latency_ms_p95) : '—') },
      ], rows));
  }
  drawLive();
  cleanups.push(subscribe(ADDRESSES.live, drawLive));
  cleanups.push(onStatus((s) => { liveState.textContent = s.text.replace('Live feed: ', 'feed '); }));

  // ---- usage over time
  const range = h('select', { id: 'usage-range' }, RANGES.map((r) => h('option', { value: r.id, text: r.label })));
  const groupBy = h('select', { id: 'usage-group' },
    h('option', { value: '', text: 'Everything' }), h('option', { value: 'model', text: 'Model' }),
    h('option', { value: 'api_key', text: 'API key' }));
  const canvases = {
    requests: h('canvas', { id: 'chart-requests', role: 'img', 'aria-label': 'Requests over time' }),
    tokens: h('canvas', { id: 'chart-tokens', role: 'img', 'aria-label': 'Tokens over time' }),
    latency: h('canvas', { id: 'chart-latency', role: 'img', 'aria-label': 'Latency percentiles over time' }),
    errors: h('canvas', { id: 'chart-errors', role: 'img', 'aria-label': 'Errors over time' }),
  };
  const usageNote = h('p', { class: 'small muted' });
  const chartCard = (title, canvas) => h('div', {}, h('h3', { text: title }), h('div', { class: 'chart-box' }, canvas));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'usage-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'usage-title', text: 'Usage over time' }),
      h('div', { class: 'row' }, field('Range', range), field('Split by', groupBy),
        button('Refresh', (e) => act(e.currentTarget, loadUsage), 'btn-ghost btn-sm', { id: 'usage-refresh' }))),
    usageNote,
    h('div', { class: 'grid grid-2' },
      chartCard('Requests', canvases.requests), chartCard('Tokens', canvases.tokens),
      chartCard('Latency (p50 solid, p95 dashed)', canvases.latency), chartCard('Errors', canvases.errors))));
  const usageCharts = {};
  for (const [name, canvas] of Object.entries(canvases)) {
    usageCharts[name] = chart(canvas, { type: name === 'errors' || name === 'requests' ? 'bar' : 'line', data: { labels: [], datasets: [] },
      options: lineOptions(name === 'latency' ? 'seconds' : name, name === 'errors' || name === 'requests'
        ? { scales: { x: { stacked: true, ticks: { maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
        : {}) });
    charts.push(usageCharts[name]);
  }

  let keyNames = null;
  async function groupLabel(group, by) {
    if (group === null || group === undefined) return by ? '(none)' : 'All requests';
    if (by !== 'api_key') return String(group);
    if (!keyNames) {
      const keys = await get('/api/v1/api_keys').catch(() => []);
      keyNames = new Map((Array.isArray(keys) ? keys : []).map((k) => [String(k.id), `${k.user_id} (${k.prefix || k.id}…)`]));
    }
    return keyNames.get(String(group)) || `key ${group}`;
  }

  async function loadUsage() {
    await loadSeries();
    await loadResumed();
  }

  async function loadSeries() {
    const r = RANGES.find((x) => x.id === range.value) || RANGES[0];
    const to = Math.floor(Date.now() / 1000) + 1;
    const data = await get('/api/v1/usage/series', { from: to - r.seconds, to, bucket: r.bucket, group_by: groupBy.value });
    const series = (data && data.series) || [];
    const withDate = r.seconds > 86400;
    const labels = series.length ? series[0].points.map((p) => timeLabel(p.t * 1000, withDate)) : [];
    const names = await Promise.all(series.map((s) => groupLabel(s.group, groupBy.value)));
    const ds = (metric, map, extra = () => ({})) => series.map((s, i) => ({
      label: names[i], data: s.points.map(map), borderColor: PALETTE[i % PALETTE.length],
      backgroundColor: PALETTE[i % PALETTE.length], ...extra(i),
    }));
    usageCharts.requests.data = { labels, datasets: ds('requests', (p) => p.requests) };
    usageCharts.errors.data = { labels, datasets: ds('errors', (p) => p.errors) };
    usageCharts.tokens.data = {
      labels,
      datasets: series.length === 1
        ? [{ label: 'Prompt', data: series[0].points.map((p) => p.prompt_tokens), borderColor: PALETTE[0], backgroundColor: PALETTE[0] },
          { label: 'Completion', data: series[0].points.map((p) => p.completion_tokens), borderColor: PALETTE[1], backgroundColor: PALETTE[1] }]
        : ds('tokens', (p) => (p.prompt_tokens || 0) + (p.completion_tokens || 0)),
    };
    const secs = (v) => (v === null || v === undefined ? null : latencySeconds(v, data));
    usageCharts.latency.data = {
      labels,
      datasets: series.flatMap((s, i) => [
        { label: `${names[i]} p50`, data: s.points.map((p) => secs(p.latency_p50)), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true, pointRadius: 2 },
        { label: `${names[i]} p95`, data: s.points.map((p) => secs(p.latency_p95)), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], borderDash: [5, 4], spanGaps: true, pointRadius: 2 },
      ]),
    };
    for (const c of Object.values(usageCharts)) c.update();
    const totals = series.reduce((a, s) => a + s.points.reduce((b, p) => b + (p.requests || 0), 0), 0);
    const bucketText = r.bucket >= 86400 ? `${r.bucket / 86400}-day` : r.bucket >= 3600 ? `${r.bucket / 3600}-hour` : `${r.bucket / 60}-minute`;
    usageNote.textContent = `${fmtNum(totals)} request${totals === 1 ? '' : 's'} in ${r.label.toLowerCase()}, in ${bucketText} buckets`
      + (data && data.latency === 'approximate' ? '; latency approximate (means and maxima, or hourly figures combined for older usage).' : '.');
  }
  // ---- streams resumed on another replica after theirs broke (README: Failures and resumed streams)
  const resumedTiles = h('div', { class: 'tiles', id: 'resumed-tiles' });
  const resumedBox = h('div', { id: 'resumed-rows' });
  root.append(h('section', { class: 'card', 'aria-labelledby': 'resumed-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'resumed-title', text: 'Resumed streams' })),
    h('p', { class: 'small muted', text: 'Streams whose replica broke mid-answer and that another replica finished; the client saw one unbroken stream. Same range as above.' }),
    resumedTiles, resumedBox));
  async function loadResumed() {
    const r = RANGES.find((x) => x.id === range.value) || RANGES[0];
    const to = Math.floor(Date.now() / 1000) + 1;
    const data = await get('/api/v1/usage/resumed', { from: to - r.seconds, to });
    resumedTiles.replaceChildren(
      tile('Streams', fmtNum(data.streams), r.label.toLowerCase(), 'resumed-streams'),
      tile('Resumed', fmtNum(data.resumed_streams), `${fmtNum(data.resumes)} resume${data.resumes === 1 ? '' : 's'} in all`, 'resumed-count'),
      tile('Still failed', fmtNum(data.failed_streams), 'ended with an error', 'resumed-failed'));
    clear(resumedBox);
    resumedBox.append(table([
      { label: 'When', cell: (x) => new Date(x.created * 1000).toLocaleString() },
      { label: 'Model', key: 'model' },
      { label: 'Resumes', key: 'resumes', num: true },
      { label: 'Replicas (in order)', key: 'replicas' },
      { label: 'Status', cell: (x) => String(x.status), num: true },
      { label: 'Completion tokens', cell: (x) => fmtNum(x.completion_tokens), num: true },
      { label: 'Request id', key: 'request_id', class: 'mono' },
    ], data.latest || [], 'No stream needed resuming in this range.'));
  }
  range.addEventListener('change', () => loadUsage().catch((e) => notify(e.message, 'error')));
  groupBy.addEventListener('change', () => loadUsage().catch((e) => notify(e.message, 'error')));

  // ---- tables
  const tableSelect = h('select', { id: 'table-select' });
  const tableBox = h('div', { id: 'table-rows' });
  const pageInfo = h('span', { class: 'small muted', id: 'table-page-info' });
  const prev = button('← Newer', () => page(-1), 'btn-ghost btn-sm', { id: 'table-prev' });
  const next = button('Older →', () => page(1), 'btn-ghost btn-sm', { id: 'table-next' });
  const exportBtn = button('Export CSV', (e) => act(e.currentTarget, exportCsv), 'btn-sm', { id: 'table-export' });
  const reload = button('Refresh', (e) => act(e.currentTarget, loadRows), 'btn-ghost btn-sm', { id: 'table-refresh' });
  root.append(h('section', { class: 'card', 'aria-labelledby': 'tables-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'tables-title', text: 'Tables' }),
      h('div', { class: 'row' }, field('Table', tableSelect), reload, exportBtn)),
    tableBox,
    h('div', { class: 'pager' }, prev, next, pageInfo)));

  let offset = 0;
  let total = null;
  async function loadRows() {
    const name = tableSelect.value;
    if (!name) return;
    const data = await get(`/api/v1/tables/${encodeURIComponent(name)}`, { limit: PAGE_SIZE, offset });
    const rows = (data && data.data) || [];
    total = data && typeof data.total === 'number' ? data.total : null;
    drawRows(rows);
    const end = offset + rows.length;
    pageInfo.textContent = rows.length ? `Rows ${fmtNum(offset + 1)}–${fmtNum(end)}${total !== null ? ` of ${fmtNum(total)}` : ''}, newest first`
      : offset ? 'No more rows.' : 'The table is empty.';
    prev.disabled = offset === 0;
    next.disabled = rows.length < PAGE_SIZE || (total !== null && end >= total);
  }
  function page(dir) {
    offset = Math.max(0, offset + dir * PAGE_SIZE);
    loadRows().catch((e) => notify(e.message, 'error'));
  }
  function columnsOf(rows) {
    const cols = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    return cols;
  }
  function cellText(v) {
    if (v === null || v === undefined) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  function drawRows(rows) {
    clear(tableBox);
    const cols = columnsOf(rows);
    if (!rows.length) {
      tableBox.append(h('div', { class: 'table-wrap' }, h('div', { class: 'empty', text: 'No rows.' })));
      return;
    }
    tableBox.append(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', id: 'data-table', dataset: { table: tableSelect.value } },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((c) => {
        const text = cellText(r[c]);
        return h('td', { dataset: { col: c }, title: text.length > 40 ? text.slice(0, 2000) : null, text });
      })))))));
  }

  async function exportCsv() {
    const name = tableSelect.value;
    const rows = [];
    for (let off = 0; off < EXPORT_MAX_ROWS; off += EXPORT_PAGE) {
      const data = await get(`/api/v1/tables/${encodeURIComponent(name)}`, { limit: EXPORT_PAGE, offset: off });
      const batch = (data && data.data) || [];
      rows.push(...batch);
      if (batch.length < EXPORT_PAGE) break;
    }
    const cols = columnsOf(rows);
    const csv = [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
    const blob = new Blob([csv], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const a = h('a', { href: url, download: `${name}-${stamp}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    notify(`Exported ${fmtNum(rows.length)} row(s) of ${name}.`);
  }

  tableSelect.addEventListener('change', () => {
    offset = 0;
    loadRows().catch((e) => notify(e.message, 'error'));
  });

  const tablesData = await get('/api/v1/tables');
  const tableNames = ((tablesData && tablesData.tables) || []).map((t) => (typeof t === 'string' ? t : t.name));
  tableSelect.replaceChildren(...tableNames.map((t) => h('option', { value: t, text: t })));
  if (tableNames.includes('metrics')) tableSelect.value = 'metrics';
  await Promise.all([
    loadRows().catch((e) => notify(e.message, 'error')),
    loadUsage().catch((e) => notify(e.message, 'error')),
  ]);

  return () => {
    for (const c of cleanups) c();
    for (const c of charts) c.destroy();
  };
}

/** Latency values of the usage series in seconds (the metrics table stores durations in seconds). */
function latencySeconds(v, data) {
  const unit = data && data.latency_unit;
  return unit === 'ms' ? v / 1000 : v;
}

/** One CSV field (RFC 4180), with formula-looking text defused for spreadsheets. */
export function csvCell(v) {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
