// The console's shell: sign-in and sign-out, hash routing (`#/overview`, `#/sku/<sku>`,
// `#/failures`, `#/alerts`, `#/channels`, `#/import`) and the navigation's current page.

import { session, whenUnauthorized } from './api.js';
import { fill } from './dom.js';
import { renderSignIn } from './views/signin.js';
import { renderOverview } from './views/overview.js';

/** Views other than the overview load on first use, keeping the first paint small. */
const views = {
  overview: async () => renderOverview,
  sku: async () => (await import('./views/sku.js')).renderSku,
  failures: async () => (await import('./views/failures.js')).renderFailures,
  alerts: async () => (await import('./views/alerts.js')).renderAlerts,
  channels: async () => (await import('./views/channels.js')).renderChannels,
  import: async () => (await import('./views/import.js')).renderImport,
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');
let renderSeq = 0;

/** `#/sku/A%2FB?x=1` → `{name: 'sku', args: ['A/B']}`. */
export function parseHash(hash) {
  const [path] = hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/');
  return { name: views[name] ? name : 'overview', args: rest.filter(Boolean).map(decodeURIComponent) };
}

async function route() {
  const seq = ++renderSeq;
  const signedIn = Boolean(session.token());
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) {
    renderSignIn(main, { onSignedIn: () => route() });
    return;
  }
  const { name, args } = parseHash(location.hash);
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const render = await views[name]();
  if (seq !== renderSeq) return; // another navigation started meanwhile
  const page = document.createElement('div');
  page.className = `view view-${name}`;
  fill(main, page);
  await render(page, ...args);
}

signOut.addEventListener('click', () => {
  session.signOut();
  location.hash = '#/overview';
  route();
});

whenUnauthorized(() => {
  // The token was refused (revoked or mistyped): back to the sign-in view.
  session.signOut();
  route();
});

window.addEventListener('hashchange', () => {
  route().then(() => main.focus({ preventScroll: true }));
});
route();
