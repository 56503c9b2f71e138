// Login: the console password buys a session token (POST /api/v1/auth/login).

import { login } from '../api.js';
import { h, field } from '../dom.js';

export function render(root, ctx) {
  const password = h('input', { type: 'password', id: 'login-password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('div', { class: 'notice bad', role: 'alert', hidden: true });
  const info = ctx.message ? h('div', { class: 'notice info', role: 'status', text: ctx.message }) : null;
  const submit = h('button', { type: 'submit', class: 'btn', id: 'login-submit' }, 'Log in');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        await login(password.value);
        location.replace('#/home');
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        password.select();
      } finally {
        submit.disabled = false;
      }
    },
  }, field('Console password', password), submit);

  root.append(h('div', { class: 'login' },
    h('div', { class: 'card' },
      h('div', { class: 'brand' }, h('img', { src: 'img/logo.svg', alt: '', width: '30', height: '30' }), 'Inference Gateway'),
      h('h1', { text: 'Console' }),
      h('p', { class: 'muted', text: 'Log in with the console password (APP_PASSWORD). The session lasts until you log out or it expires.' }),
      info, error, form)));
  password.focus();
}
