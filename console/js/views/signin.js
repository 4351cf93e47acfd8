// Sign-in: the operator (admin) token, checked against the API, then kept in sessionStorage
// for this tab only (never in a URL, never in localStorage).

import { ApiError, call, session } from '../api.js';
import { fill, h, problemBox } from '../dom.js';

export function renderSignIn(main, { onSignedIn }) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        fill(out);
        const token = input.value.trim();
        try {
          // A read of the admin API tells an operator or admin token from a storefront one (403) or none (401).
          await call('GET', '/v1/channels?limit=1', { token });
          session.signIn(token);
          input.value = '';
          onSignedIn();
        } catch (e) {
          const msg = e instanceof ApiError && e.status === 403 ? 'This is not an operator or admin token' : 'Sign-in failed';
          fill(out, problemBox(e, msg));
        }
      },
    },
    h('h1', { id: 'sign-in-title' }, 'Sign in to the StockEdge console'),
    h('label', { for: 'token' }, 'Operator token'),
    input,
    h('p', { class: 'hint' }, 'The Worker’s ADMIN_TOKEN, or OPERATOR_TOKEN to look without changing anything. It stays in this tab (sessionStorage) until you sign out or close it.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    out,
  );
  fill(main, form);
  input.focus();
}
