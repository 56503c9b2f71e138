// The admin API client. It holds only the console session token (from POST /api/v1/auth/login), in sessionStorage:
// never the admin key. A 401 means the session is over: the token is dropped and the login page shown.

const TOKEN = 'igw.session.token';
const EXPIRES = 'igw.session.expires';

export const session = {
  get token() {
    const t = sessionStorage.getItem(TOKEN);
    if (!t) return null;
    const exp = Date.parse(sessionStorage.getItem(EXPIRES) || '');
    if (!Number.isNaN(exp) && exp <= Date.now()) {
      session.clear();
      return null;
    }
    return t;
  },
  get expiresAt() {
    return sessionStorage.getItem(EXPIRES);
  },
  save(token, expiresAt) {
    sessionStorage.setItem(TOKEN, token);
    if (expiresAt) sessionStorage.setItem(EXPIRES, expiresAt);
    else sessionStorage.removeItem(EXPIRES);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(EXPIRES);
  },
};

/** An API failure with a message fit to show. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let onExpired = () => {};

/** What to do when the session ends (the app shows the login page). */
export function whenSessionExpires(handler) {
  onExpired = handler;
}

/** The readable message of an error body in any of the gateway's shapes. */
export function errorMessage(body, status, statusText) {
  if (body && typeof body === 'object') {
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error.message === 'string') return body.error.message; // OpenAI's shape
    if (typeof body.message === 'string') return body.message;
    if (body.errors && typeof body.errors === 'object') return fieldErrors(body.errors).join(' ');
    if (typeof body.detail === 'string') return body.detail;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return `The gateway answered ${status}${statusText ? ' ' + statusText : ''}.`;
}

/** {"errors": {"field": ["msg"], "models": {"0": ["msg"]}}} → ["field: msg", "models[0]: msg"]. */
function fieldErrors(errors, prefix = '') {
  const out = [];
  for (const [name, value] of Object.entries(errors)) {
    const path = prefix ? (/^\d+$/.test(name) ? `${prefix}[${name}]` : `${prefix}.${name}`) : name;
    if (Array.isArray(value)) out.push(`${path}: ${value.join(' ')}`);
    else if (value && typeof value === 'object') out.push(...fieldErrors(value, path));
    else out.push(`${path}: ${value}`);
  }
  return out;
}

/**
 * Calls the admin API. Resolves with the parsed JSON (null for 204); rejects with an ApiError carrying the API's own
 * message. A 401 on an authenticated call ends the session.
 */
export async function api(method, path, body, { auth = true, query } = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token;
  if (auth) {
    if (!token) {
      onExpired('Please log in.');
      throw new ApiError(401, 'Please log in.');
    }
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `The gateway cannot be reached (${e.message}).`);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (resp.status === 401 && auth) {
    session.clear();
    onExpired('Your session has expired; please log in again.');
    throw new ApiError(401, 'Your session has expired; please log in again.', data);
  }
  if (!resp.ok) {
    let message = errorMessage(data, resp.status, resp.statusText);
    const retry = resp.headers.get('Retry-After');
    if (resp.status === 429 && retry && !/retry/i.test(message)) message += ` Retry in ${retry} s.`;
    throw new ApiError(resp.status, message, data);
  }
  return data;
}

export const get = (path, query) => api('GET', path, undefined, { query });
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body ?? {});
export const del = (path, query) => api('DELETE', path, undefined, { query });

/** Logs in with the console password; stores the session token. */
export async function login(password) {
  const data = await api('POST', '/api/v1/auth/login', { password }, { auth: false });
  const token = data && (data.token || data.access_token);
  if (!token) throw new ApiError(500, 'The login answer carried no token.');
  let expiresAt = data.expires_at;
  if (!expiresAt && data.expires_in) expiresAt = new Date(Date.now() + data.expires_in * 1000).toISOString();
  session.save(token, expiresAt);
  return data;
}

/** The models, each with its replicas (and their live state). */
export async function modelsWithReplicas(activeOnly = false) {
  const models = await get('/api/v1/models', activeOnly ? { active: 1 } : undefined);
  const list = Array.isArray(models) ? models : (models && models.data) || [];
  const replicas = await Promise.all(list.map((m) => get(`/api/v1/models/${encodeURIComponent(m.id)}/replicas`)
    .catch(() => [])));
  return list.map((m, i) => ({ ...m, replicaList: Array.isArray(replicas[i]) ? replicas[i] : [] }));
}
