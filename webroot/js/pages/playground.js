// Playground: chat with an active model through the gateway's OpenAI API (/v1/chat/completions), streaming tokens as
// they arrive. Calling /v1 needs a user API key: by default the console creates a temporary one (user
// "console-playground", 60 requests/min, expires after an hour) and keeps it in memory only, for this tab; or the
// operator pastes a key. The equivalent code for the current settings is shown below the chat.

import { post, ApiError, errorMessage } from '../api.js';
import { h, field, button, notify, pageHead, codeBlock, tabs, fmtNum } from '../dom.js';
import { chatBody, curl, python, node } from '../snippets.js';
import { modelNames } from './models.js';

const PLAYGROUND_USER = 'console-playground';
const KEY_TTL_MS = 60 * 60 * 1000;

// The temporary key lives in this module only: never in storage.
let temporaryKey = null; // {id, key, expiresAt}
// The conversation survives switching pages (not reloads).
const state = {
  messages: [],
  settings: { model: '', system: 'You are a helpful assistant.', temperature: 0.7, max_tokens: 512, presence_penalty: 0, frequency_penalty: 0, stream: true },
  keyMode: 'temporary',
  pastedKey: '',
};

/** Forgets the temporary key (the session ended). */
export function forgetKey() {
  temporaryKey = null;
  state.pastedKey = '';
}

/** Deletes the temporary key on logout. */
export async function dropKey() {
  const k = temporaryKey;
  temporaryKey = null;
  state.pastedKey = '';
  if (k) await post('/api/v1/delete_api_key', { user_id: PLAYGROUND_USER, api_key_id: k.id });
}

async function playgroundKey() {
  if (state.keyMode === 'paste') {
    if (!state.pastedKey.trim()) throw new ApiError(400, 'Paste an API key, or use a temporary key.');
    return state.pastedKey.trim();
  }
  if (temporaryKey && temporaryKey.expiresAt - Date.now() > 60_000) return temporaryKey.key;
  const expiresAt = new Date(Date.now() + KEY_TTL_MS);
  const made = await post('/api/v1/generate_api_key', {
    user_id: PLAYGROUND_USER, allowed_rpm: 60, expires_at: expiresAt.toISOString(),
  });
  temporaryKey = { id: made.id, key: made.api_key, expiresAt: expiresAt.getTime() };
  return temporaryKey.key;
}

/** POSTs a chat completion; calls onDelta with each piece of text as it arrives. Resolves with the usage, if any. */
async function complete(body, key, onDelta, signal) {
  let resp;
  try {
    resp = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `The gateway cannot be reached (${e.message}).`);
  }
  if (!resp.ok) {
    const text = await resp.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (resp.status === 401 && state.keyMode === 'temporary') temporaryKey = null;
    throw new ApiError(resp.status, errorMessage(data, resp.status, resp.statusText), data);
  }
  if (!body.stream) {
    const data = await resp.json();
    onDelta((data.choices && data.choices[0] && data.choices[0].message && data.choices[0].message.content) || '');
    return data.usage || null;
  }
  // Server-sent events: "data: {...}\n\n" ... "data: [DONE]\n\n"
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let usage = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (!data) continue;
      if (data === '[DONE]') return usage;
      let chunk;
      try {
        chunk = JSON.parse(data);
      } catch {
        continue;
      }
      if (chunk.error) throw new ApiError(502, chunk.error.message || 'The stream failed.');
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) onDelta(delta.content);
      if (chunk.usage) usage = chunk.usage;
    }
  }
  return usage;
}

export async function render(root) {
  const s = state.settings;
  const messagesBox = h('div', { class: 'messages', id: 'chat-messages', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const prompt = h('textarea', { id: 'chat-input', rows: '2', placeholder: 'Send a message (Enter to send, Shift+Enter for a new line)' });
  const send = h('button', { type: 'submit', class: 'btn', id: 'chat-send' }, 'Send');
  const stop = button('Stop', () => controller && controller.abort(), 'btn-ghost', { id: 'chat-stop', hidden: true });
  const codeBox = h('div');

  const model = h('select', { id: 'pg-model' });
  const system = h('textarea', { id: 'pg-system', rows: '3', value: s.system });
  const slider = (id, min, max, step, value) => {
    const input = h('input', { type: 'range', id, min: String(min), max: String(max), step: String(step), value: String(value) });
    const out = h('output', { for: id, text: String(value) });
    input.addEventListener('input', () => { out.textContent = input.value; });
    return { input, row: h('div', { class: 'range-row' }, input, out) };
  };
  const temperature = slider('pg-temperature', 0, 2, 0.05, s.temperature);
  const presence = slider('pg-presence', -2, 2, 0.1, s.presence_penalty);
  const frequency = slider('pg-frequency', -2, 2, 0.1, s.frequency_penalty);
  const maxTokens = h('input', { type: 'number', id: 'pg-max-tokens', min: '1', max: '32768', step: '1', value: String(s.max_tokens) });
  const stream = h('input', { type: 'checkbox', id: 'pg-stream', checked: s.stream });
  const keyMode = h('select', { id: 'pg-key-mode' },
    h('option', { value: 'temporary', text: 'Temporary key (made for this tab, 1 h)' }),
    h('option', { value: 'paste', text: 'Paste an API key' }));
  keyMode.value = state.keyMode;
  const pasted = h('input', { type: 'password', id: 'pg-api-key', autocomplete: 'off', placeholder: 'sk-...', value: state.pastedKey });
  const pastedField = field('API key', pasted, 'Kept in this page only.');
  pastedField.hidden = state.keyMode !== 'paste';

  const fieldFor = (label, ctl) => field(label, ctl);
  const rangeField = (label, r) => {
    const f = field(label, r.input);
    f.replaceChild(r.row, r.input);
    r.row.prepend(r.input);
    return f;
  };

  let controller = null;

  function readSettings() {
    s.model = model.value;
    s.system = system.value;
    s.temperature = Number(temperature.input.value);
    s.presence_penalty = Number(presence.input.value);
    s.frequency_penalty = Number(frequency.input.value);
    s.max_tokens = maxTokens.value ? Number(maxTokens.value) : null;
    s.stream = stream.checked;
    state.keyMode = keyMode.value;
    state.pastedKey = pasted.value;
    pastedField.hidden = state.keyMode !== 'paste';
  }

  function requestBody(extraUser) {
    const messages = [];
    if (s.system.trim()) messages.push({ role: 'system', content: s.system });
    for (const m of state.messages) if (m.role !== 'error') messages.push({ role: m.role, content: m.content });
    if (extraUser !== undefined) messages.push({ role: 'user', content: extraUser });
    return chatBody({ ...s, messages });
  }

  const codeTabs = tabs([
    { id: 'curl', label: 'curl', render: (p) => p.append(codeBlock(curl(requestBody(prompt.value.trim() || undefined)), 'curl')) },
    { id: 'python', label: 'Python', render: (p) => p.append(codeBlock(python(requestBody(prompt.value.trim() || undefined)), 'Python')) },
    { id: 'node', label: 'Node.js', render: (p) => p.append(codeBlock(node(requestBody(prompt.value.trim() || undefined)), 'Node.js')) },
  ]);
  codeBox.append(h('p', { class: 'small muted' }, 'The same request from your own code; set API_KEY to a key from ',
    h('a', { href: '#/keys', text: 'API Keys' }), '.'), codeTabs);
  const updateCode = () => codeTabs.refresh();

  function bubble(m) {
    const el = h('div', { class: `msg ${m.role}`, dataset: { role: m.role } });
    el.append(h('span', { class: 'text', text: m.content }));
    if (m.meta) el.append(h('span', { class: 'meta', text: m.meta }));
    return el;
  }

  function drawMessages() {
    messagesBox.replaceChildren(...state.messages.map(bubble));
    if (!state.messages.length) {
      messagesBox.append(h('p', { class: 'muted empty', text: 'Pick a model and say something.' }));
    }
  }

  async function sendMessage() {
    readSettings();
    const text = prompt.value.trim();
    if (!text || controller) return;
    if (!s.model) {
      notify('No active model: add a replica on the Models page first.', 'error');
      return;
    }
    const body = requestBody(text);
    state.messages.push({ role: 'user', content: text });
    prompt.value = '';
    const reply = { role: 'assistant', content: '' };
    state.messages.push(reply);
    drawMessages();
    const el = messagesBox.lastElementChild;
    el.id = 'chat-reply';
    el.classList.add('streaming');
    const textNode = el.querySelector('.text');
    controller = new AbortController();
    send.disabled = true;
    stop.hidden = false;
    const started = performance.now();
    let firstToken = null;
    try {
      const key = await playgroundKey();
      const usage = await complete(body, key, (delta) => {
        if (firstToken === null) firstToken = performance.now() - started;
        reply.content += delta;
        textNode.textContent = reply.content;
        messagesBox.scrollTop = messagesBox.scrollHeight;
      }, controller.signal);
      const total = performance.now() - started;
      reply.meta = [
        s.model,
        firstToken !== null && s.stream ? `first token ${Math.round(firstToken)} ms` : null,
        `${(total / 1000).toFixed(2)} s`,
        usage ? `${fmtNum(usage.prompt_tokens)} prompt + ${fmtNum(usage.completion_tokens)} completion tokens` : null,
      ].filter(Boolean).join(' · ');
    } catch (e) {
      if (e.name === 'AbortError') {
        reply.meta = 'stopped';
      } else {
        if (!reply.content) state.messages.pop();
        state.messages.push({ role: 'error', content: e.message });
      }
    } finally {
      controller = null;
      send.disabled = false;
      stop.hidden = true;
      el.classList.remove('streaming');
      drawMessages();
      const last = messagesBox.querySelector('.msg.assistant:last-of-type');
      if (last) last.id = 'chat-reply';
      messagesBox.dataset.done = String(state.messages.length);
      updateCode();
      prompt.focus();
    }
  }

  const reset = button('Reset', () => {
    if (controller) controller.abort();
    state.messages = [];
    drawMessages();
    updateCode();
    notify('Conversation cleared.');
  }, 'btn-ghost', { id: 'pg-reset' });

  prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      sendMessage();
    }
  });
  prompt.addEventListener('input', () => {
    clearTimeout(prompt.codeTimer);
    prompt.codeTimer = setTimeout(updateCode, 300);
  });
  const settingsBox = h('form', { class: 'settings', onsubmit: (e) => e.preventDefault() },
    fieldFor('Model', model),
    field('System prompt', system),
    rangeField('Temperature', temperature),
    field('Max tokens', maxTokens),
    rangeField('Presence penalty', presence),
    rangeField('Frequency penalty', frequency),
    h('label', { class: 'check', for: 'pg-stream' }, stream, 'Stream tokens as they arrive'),
    h('hr', { class: 'sep' }),
    field('API key for /v1', keyMode),
    pastedField,
    h('div', { class: 'row' }, reset));
  settingsBox.addEventListener('input', () => { readSettings(); updateCode(); });
  settingsBox.addEventListener('change', () => { readSettings(); updateCode(); });

  root.append(
    pageHead('Playground', 'Chat with a model through the gateway, exactly as your applications do.'),
    h('div', { class: 'playground' },
      h('section', { class: 'card chat', 'aria-label': 'Chat' },
        messagesBox,
        h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); sendMessage(); } },
          h('label', { for: 'chat-input', class: 'skip', text: 'Message' }), prompt, stop, send)),
      h('aside', { class: 'card', 'aria-label': 'Settings' }, h('h2', { text: 'Settings' }), settingsBox)),
    h('section', { class: 'card', 'aria-labelledby': 'pg-code' }, h('h2', { id: 'pg-code', text: 'Equivalent code' }), codeBox));
  drawMessages();

  const names = await modelNames(true).catch((e) => {
    notify(e.message, 'error');
    return [];
  });
  model.replaceChildren(...(names.length ? names.map((n) => h('option', { value: n, text: n }))
    : [h('option', { value: '', text: 'No active model' })]));
  if (names.includes(s.model)) model.value = s.model;
  readSettings();
  updateCode();
  prompt.focus();
  return () => {
    if (controller) controller.abort();
  };
}
