// The console's shell: hash routing (#/models ...), one module per page, the login guard and the live-feed status.

import { api, session, whenSessionExpires } from './api.js';
import { clear, notify } from './dom.js';
import * as live from './live.js';
import * as loginPage from './pages/login.js';
import * as homePage from './pages/home.js';
import * as modelsPage from './pages/models.js';
import * as playgroundPage from './pages/playground.js';
import * as keysPage from './pages/keys.js';
import * as monitoringPage from './pages/monitoring.js';

const pages = {
  login: { module: loginPage, title: 'Log in' },
  home: { module: homePage, title: 'Home' },
  models: { module: modelsPage, title: 'Models' },
  playground: { module: playgroundPage, title: 'Playground' },
  keys: { module: keysPage, title: 'API Keys' },
  monitoring: { module: monitoringPage, title: 'Monitoring' },
};

const view = document.getElementById('view');
const sidebar = document.getElementById('sidebar');
let cleanup = null;
let loginMessage = null;

function pageName() {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return pages[name] ? name : 'home';
}

async function route() {
  let name = pageName();
  if (!session.token && name !== 'login') {
    location.replace('#/login');
    return;
  }
  if (session.token && name === 'login') {
    location.replace('#/home');
    return;
  }
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  const loggedIn = name !== 'login';
  sidebar.hidden = !loggedIn;
  document.body.classList.toggle('logged-out', !loggedIn);
  if (loggedIn) live.connect();
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${pages[name].title} · Inference Gateway`;
  clear(view);
  clear(document.getElementById('toasts')); // messages belong to the page they came from
  view.dataset.page = name;
  try {
    // the reason for showing the login page stays until someone logs in (a page may re-render meanwhile)
    if (loggedIn) loginMessage = null;
    const ctx = { message: loginMessage };
    const result = await pages[name].module.render(view, ctx);
    if (typeof result === 'function') cleanup = result;
  } catch (e) {
    if (e && e.status === 401) return; // the session ended; the login page is on its way
    notify(e.message || String(e), 'error');
  }
  view.focus({ preventScroll: true });
}

whenSessionExpires((message) => {
  live.disconnect();
  playgroundPage.forgetKey();
  loginMessage = message;
  if (pageName() !== 'login') location.replace('#/login'); // hashchange renders it
});

document.getElementById('logout').addEventListener('click', async () => {
  await playgroundPage.dropKey().catch(() => {});
  // revoke the token on the server too, so a copy of it is worthless from now on
  if (session.token) await api('POST', '/api/v1/auth/logout').catch(() => {});
  session.clear();
  live.disconnect();
  loginMessage = 'You are logged out.';
  location.replace('#/login');
});

const feedStatus = document.getElementById('feed-status');
live.onStatus((s) => {
  feedStatus.textContent = s.text;
  feedStatus.className = `feed-status ${s.state}`;
});

// the session token expires even while nobody clicks: look once a minute
setInterval(() => {
  if (!session.token && pageName() !== 'login') {
    live.disconnect();
    loginMessage = 'Your session has expired; please log in again.';
    location.replace('#/login');
  }
}, 60_000);

window.addEventListener('hashchange', route);
if (document.readyState === 'complete') route();
else window.addEventListener('load', route);
