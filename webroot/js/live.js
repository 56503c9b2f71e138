// The live feed: one SockJS event-bus connection for the whole console, opened after login. The bridge at
// /eventbus lets the page receive on the metrics addresses only, and each registration carries the session token.
// The last five minutes of the once-a-second summaries are kept here, so the Monitoring page has history at once.
// In cluster mode every gateway instance publishes its own summary (with its `instance` name): the summaries of one
// second are added up into one entry, which keeps each instance's own summary under `instances`.

import { session } from './api.js';

export const ADDRESSES = {
  live: 'gateway.metrics.live',
  replicas: 'gateway.replicas.state',
  provisioning: 'gateway.replicas.provisioning',
};

const HISTORY_SECONDS = 300;
const history = [];
const listeners = new Map(); // address -> Set of callbacks
const statusListeners = new Set();
let eb = null;
let status = { state: 'off', text: 'Live feed: off' };

function setStatus(state, text) {
  status = { state, text };
  for (const cb of statusListeners) cb(status);
}

export function onStatus(cb) {
  statusListeners.add(cb);
  cb(status);
  return () => statusListeners.delete(cb);
}

/** The summaries received so far (oldest first), at most five minutes of them. */
export function liveHistory() {
  return history;
}

/** Calls cb(body) for every message on the address; returns the function that stops it. */
export function subscribe(address, cb) {
  if (!listeners.has(address)) listeners.set(address, new Set());
  listeners.get(address).add(cb);
  return () => listeners.get(address).delete(cb);
}

const SUMMED = ['requests', 'errors', 'prompt_tokens', 'completion_tokens', 'in_flight'];
const LATENCIES = ['latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99'];

/** Adds one instance's summary to the entry of its second (a new entry when the second, or the instance, repeats). */
function addSummary(body) {
  const instance = body.instance || 'local';
  const second = Math.floor((body.ts || Date.now()) / 1000);
  let entry = history[history.length - 1];
  if (!entry || entry.second !== second || entry.instances[instance]) {
    entry = { second, ts: body.ts, instances: {}, by_model: {} };
    for (const k of SUMMED) entry[k] = 0;
    for (const k of LATENCIES) entry[k] = null;
    history.push(entry);
    if (history.length > HISTORY_SECONDS) history.splice(0, history.length - HISTORY_SECONDS);
  }
  entry.instances[instance] = body;
  for (const k of SUMMED) entry[k] += body[k] || 0;
  // percentiles cannot be added up: the slowest instance's
  for (const k of LATENCIES) {
    if (body[k] !== null && body[k] !== undefined) entry[k] = Math.max(entry[k] ?? 0, body[k]);
  }
  for (const [model, m] of Object.entries(body.by_model || {})) {
    const sum = entry.by_model[model] || (entry.by_model[model] = {});
    for (const [k, v] of Object.entries(m)) sum[k] = (sum[k] || 0) + (v || 0);
  }
  return entry;
}

/** Per instance over the kept history: {instance: {requests, errors, tokens, last}} (last: its newest summary). */
export function liveByInstance() {
  const out = {};
  for (const entry of history) {
    for (const [name, s] of Object.entries(entry.instances || {})) {
      const o = out[name] || (out[name] = { requests: 0, errors: 0, tokens: 0, last: null });
      o.requests += s.requests || 0;
      o.errors += s.errors || 0;
      o.tokens += (s.prompt_tokens || 0) + (s.completion_tokens || 0);
      o.last = s;
    }
  }
  return out;
}

function deliver(address, body) {
  if (address === ADDRESSES.live) {
    addSummary(body);
  }
  for (const cb of listeners.get(address) || []) {
    try {
      cb(body);
    } catch (e) {
      console.error(e);
    }
  }
}

/** Opens the connection (once); it reconnects by itself until disconnect(). */
export function connect() {
  if (eb || !window.EventBus) {
    if (!window.EventBus) setStatus('bad', 'Live feed: client missing');
    return;
  }
  setStatus('off', 'Live feed: connecting');
  eb = new window.EventBus('/eventbus');
  eb.enableReconnect(true);
  eb.onopen = () => {
    const token = session.token;
    if (!token) {
      disconnect();
      return;
    }
    for (const address of Object.values(ADDRESSES)) {
      eb.registerHandler(address, { token }, (err, msg) => {
        if (err) {
          setStatus('bad', `Live feed: ${err.message || 'refused'}`);
          return;
        }
        deliver(address, msg.body);
      });
    }
    setStatus('on', 'Live feed: on');
  };
  eb.onclose = () => {
    if (eb) setStatus('bad', 'Live feed: reconnecting');
  };
  eb.onerror = (err) => {
    // the bridge refuses a registration with {"type": "err", "body": "access_denied" | "rejected"}
    const what = err && (err.body || err.message || err.failureType);
    setStatus('bad', `Live feed: ${what === 'rejected' || what === 'access_denied' ? 'refused (log in again)' : 'error'}`);
  };
}

export function disconnect() {
  const bus = eb;
  eb = null;
  history.length = 0;
  if (bus) {
    try {
      bus.close();
    } catch {
      // already closed
    }
  }
  setStatus('off', 'Live feed: off');
}
