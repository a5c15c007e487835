// The console's entry: sign-in, the header, and a hash router over the pages.
import { api, ApiError, errorBox, h, live, session, signIn, signOut } from './core.js';
import { fleetPage } from './fleet.js';
import { devicePage } from './device.js';
import { alarmsPage } from './alarms.js';
import { rulesPage, rulePage } from './rules.js';
import { mapPage } from './map.js';

const routes = [
  [/^#\/fleet$/, fleetPage],
  [/^#\/devices\/([^/]+)$/, devicePage],
  [/^#\/map$/, mapPage],
  [/^#\/alarms$/, alarmsPage],
  [/^#\/rules$/, rulesPage],
  [/^#\/rules\/([^/]+)$/, rulePage],
];

let dispose = null;
let rendering = 0;

async function render() {
  const token = ++rendering;
  if (dispose) {
    try { dispose(); } catch (e) { /* a page's clean-up must not stop the next page */ }
    dispose = null;
  }
  const view = document.getElementById('view');
  view.replaceChildren();
  if (!session.key || location.hash === '#/sign-in') {
    header(false);
    view.append(signInForm());
    return;
  }
  if (!session.me) {
    try {
      session.me = (await api('GET', '/me')).body;
    } catch (e) {
      signOut();
      header(false);
      view.append(signInForm(e));
      return;
    }
  }
  header(true);
  const hash = location.hash || '#/fleet';
  for (const [re, page] of routes) {
    const m = hash.match(re);
    if (m) {
      const params = m.slice(1).map(decodeURIComponent);
      try {
        const d = await page(view, ...params);
        if (token === rendering) dispose = d || null;
        else if (d) d();
      } catch (e) {
        view.append(errorBox(e));
      }
      document.body.dataset.page = re.source;
      return;
    }
  }
  location.hash = '#/fleet';
}

function header(signedIn) {
  const top = document.getElementById('top');
  top.hidden = !signedIn;
  if (!signedIn) return;
  const me = session.me;
  const nav = [['#/fleet', 'Fleet'], ['#/map', 'Map'], ['#/alarms', 'Alarms'], ['#/rules', 'Rules']];
  const hash = location.hash || '#/fleet';
  const liveDot = h('span', { class: 'live-state', id: 'live-state' }, 'live: off');
  top.replaceChildren(
    h('a', { class: 'brand', href: '#/fleet' }, 'Drover'),
    h('nav', {}, nav.map(([href, text]) => h('a', { href, class: hash.startsWith(href) ? 'current' : null }, text))),
    h('span', { class: 'spacer' }),
    liveDot,
    h('span', { class: 'who', id: 'who' }, (me.tenantId || 'platform') + ' · ',
      h('b', { id: 'role' }, me.role), me.canWrite ? '' : ' (read-only)'),
    h('a', { href: '/api/docs', class: 'docs' }, 'API'),
    h('button', { type: 'button', id: 'sign-out', onclick: () => { signOut(); location.hash = '#/sign-in'; } }, 'Sign out'));
  if (top.liveOff) top.liveOff();
  top.liveOff = live.onStatus((s) => {
    liveDot.textContent = 'live: ' + s;
    liveDot.className = 'live-state ' + s;
  });
}

function signInForm(error) {
  const input = h('input', {
    type: 'password', id: 'api-key', name: 'api-key', autocomplete: 'off', required: true,
    placeholder: 'drv_…', 'aria-label': 'API key',
  });
  const msg = h('div', { id: 'sign-in-error' }, error ? errorBox(error) : null);
  const form = h('form', { id: 'sign-in', class: 'card narrow' },
    h('h1', {}, 'Drover console'),
    h('p', {}, 'Sign in with an API key of your tenant (./drover dev prints one). It is kept in this tab only.'),
    h('label', { for: 'api-key' }, 'API key'), input,
    h('button', { type: 'submit' }, 'Sign in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    session.key = key;
    try {
      const me = (await api('GET', '/me')).body;
      signIn(key, me);
      location.hash = '#/fleet';
      if (location.hash === '#/fleet') render();
    } catch (e) {
      session.key = null;
      msg.replaceChildren(errorBox(e instanceof ApiError && e.status === 401
        ? new Error('That key is not valid (unknown, revoked or expired).') : e));
    }
  });
  setTimeout(() => input.focus(), 0);
  return form;
}

window.addEventListener('hashchange', render);
render();
