// Fleet page: the tenant's counts and the device table (search, filters, cursor paging).
import { age, api, errorBox, every, h, live, session, setAge } from './core.js';

const PAGE = 50;
/** A filtered page may come back short (the list scans a bounded number of rows a request): ask on, this often. */
const MAX_FOLLOW = 20;
const STATES = ['', 'provisioned', 'active', 'suspended', 'decommissioned'];
const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'indeterminate'];

export async function fleetPage(view) {
  const counts = h('section', { class: 'tiles', id: 'fleet-counts' }, h('p', {}, 'Loading counts…'));
  const countsAge = h('span', { class: 'age' });
  const q = h('input', { type: 'search', id: 'filter-q', placeholder: 'id prefix or name', 'aria-label': 'search' });
  const type = h('input', { type: 'text', id: 'filter-type', placeholder: 'type', 'aria-label': 'type' });
  const label = h('input', { type: 'text', id: 'filter-label', placeholder: 'label', 'aria-label': 'label' });
  const state = h('select', { id: 'filter-state', 'aria-label': 'state' },
    STATES.map((s) => h('option', { value: s }, s || 'any state')));
  const online = h('select', { id: 'filter-online', 'aria-label': 'online' },
    h('option', { value: '' }, 'online or not'), h('option', { value: 'true' }, 'online'),
    h('option', { value: 'false' }, 'offline'));
  const tbody = h('tbody', { id: 'device-rows' });
  const status = h('p', { class: 'muted', id: 'device-status' });
  const tableAge = h('span', { class: 'age', id: 'table-age' });
  const prev = h('button', { type: 'button', id: 'page-prev', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', id: 'page-next', disabled: true }, 'Next →');
  const message = h('div');

  // cursors[i] is where page i starts (null: the beginning)
  let cursors = [null];
  let pageIndex = 0;
  let nextCursor = null;
  let loading = 0;
  /** Session changes pushed in the last seconds, which the list's read side may not show yet (bounded). */
  const liveState = new Map();

  function query(cursor) {
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (q.value.trim()) p.set('q', q.value.trim());
    if (type.value.trim()) p.set('type', type.value.trim());
    if (label.value.trim()) p.set('label', label.value.trim());
    if (state.value) p.set('state', state.value);
    if (online.value) p.set('online', online.value);
    if (cursor) p.set('cursor', cursor);
    return '/devices?' + p;
  }

  async function load() {
    const token = ++loading;
    const started = performance.now();
    const items = [];
    let cursor = cursors[pageIndex];
    let asks = 0;
    try {
      do {
        const r = await api('GET', query(cursor));
        items.push(...r.body.items);
        cursor = r.body.nextCursor || null;
        asks++;
      } while (cursor && items.length < PAGE && asks < MAX_FOLLOW);
    } catch (e) {
      if (token === loading) message.replaceChildren(errorBox(e));
      return;
    }
    if (token !== loading) return;
    message.replaceChildren();
    nextCursor = cursor;
    tbody.replaceChildren(...items.slice(0, PAGE).map(row));
    if (!items.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No device matches.')));
    prev.disabled = pageIndex === 0;
    next.disabled = !nextCursor;
    status.textContent = `Page ${pageIndex + 1}: ${items.length} device${items.length === 1 ? '' : 's'}`
      + (nextCursor ? ', more on the next page' : '') + '.';
    setAge(tableAge, Date.now(), 'table read ');
    document.body.dataset.fleetRenderMs = String(Math.round(performance.now() - started));
  }

  function row(d) {
    const pushed = liveState.get(d.id);
    if (pushed && Date.now() - pushed.seen < 10000) d = { ...d, online: pushed.online }; // newer than the list's read side
    return h('tr', { dataset: { deviceId: d.id } },
      h('td', {}, h('a', { href: '#/devices/' + encodeURIComponent(d.id) }, d.id)),
      h('td', {}, d.name || ''),
      h('td', {}, d.type || ''),
      h('td', {}, (d.labels || []).map((l) => h('span', { class: 'chip' }, l))),
      h('td', {}, h('span', { class: 'state ' + d.state }, d.state)),
      h('td', { class: 'connection' }, h('span', { class: d.online ? 'dot on' : 'dot off' }, d.online ? 'online' : 'offline')),
      h('td', {}, age(d.updatedAt)));
  }

  async function loadCounts() {
    try {
      const s = (await api('GET', '/fleet/summary')).body;
      const bySev = s.alarms.bySeverity || {};
      counts.replaceChildren(
        tile('Devices', s.devices.total, Object.entries(s.devices.byState || {}).map(([k, v]) => `${v} ${k}`).join(' · '), 'count-devices'),
        tile('Online', s.devices.online, s.devices.total ? Math.round(100 * s.devices.online / s.devices.total) + ' %' : '', 'count-online'),
        tile('Active alarms', s.alarms.active, `${s.alarms.unacknowledged} not acknowledged`, 'count-alarms'),
        h('div', { class: 'tile severities' }, SEVERITIES.map((k) => h('span', { class: 'sev ' + k }, `${bySev[k] || 0} ${k}`))),
        s.complete ? null : h('p', { class: 'warn' }, 'Counts stopped at their bound: figures are lower bounds.'));
      setAge(countsAge, s.computedAt, 'counts read ');
    } catch (e) {
      counts.replaceChildren(errorBox(e));
    }
  }

  function tile(title, n, sub, id) {
    return h('div', { class: 'tile', id }, h('div', { class: 'tile-title' }, title),
      h('div', { class: 'tile-value' }, String(n)), h('div', { class: 'tile-sub' }, sub));
  }

  let debounce = null;
  function refilter() {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      cursors = [null];
      pageIndex = 0;
      load();
    }, 250);
  }
  for (const el of [q, type, label]) el.addEventListener('input', refilter);
  for (const el of [state, online]) el.addEventListener('change', refilter);
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors[pageIndex + 1] = nextCursor;
    pageIndex++;
    load();
  });
  prev.addEventListener('click', () => {
    if (pageIndex === 0) return;
    pageIndex--;
    load();
  });

  view.append(
    h('h1', {}, 'Fleet'),
    counts, h('p', { class: 'muted' }, countsAge),
    session.canWrite ? createForm(() => { cursors = [null]; pageIndex = 0; load(); loadCounts(); }) : null,
    h('div', { class: 'filters' }, q, type, label, state, online),
    message,
    h('table', { class: 'devices' },
      h('thead', {}, h('tr', {}, ['Id', 'Name', 'Type', 'Labels', 'State', 'Connection', 'Updated'].map((t) => h('th', {}, t)))),
      tbody),
    h('div', { class: 'pager' }, prev, next, status, tableAge));
  await Promise.all([load(), loadCounts()]);
  // online state is pushed (the tenant's session starts and ends over the socket); the table and the counts are
  // re-read too, for what has no live frame (new devices, lifecycle) and for changes missed while reconnecting
  const stopLive = live.watchConnectivity((c) => {
    liveState.set(c.deviceId, { online: c.online, seen: Date.now() });
    if (liveState.size > 1000) liveState.delete(liveState.keys().next().value);
    const tr = tbody.querySelector(`tr[data-device-id="${CSS.escape(c.deviceId)}"]`);
    if (!tr) return;
    const cell = tr.querySelector('td.connection');
    cell.replaceChildren(h('span', { class: c.online ? 'dot on' : 'dot off' }, c.online ? 'online' : 'offline'),
      ' ', age(c.at));
    tr.dataset.liveOnline = String(c.online);
    tr.classList.remove('flash');
    void tr.offsetWidth;
    tr.classList.add('flash');
  });
  const stopTable = every(10000, load);
  const stopCounts = every(10000, loadCounts);
  return () => { stopLive(); stopTable(); stopCounts(); clearTimeout(debounce); };
}

/** Register a device (operator, admin): its token is shown once. */
function createForm(done) {
  const id = h('input', { type: 'text', id: 'new-device-id', placeholder: 'id (optional)', 'aria-label': 'new device id' });
  const name = h('input', { type: 'text', id: 'new-device-name', placeholder: 'name', 'aria-label': 'new device name' });
  const type = h('input', { type: 'text', id: 'new-device-type', placeholder: 'type', 'aria-label': 'new device type' });
  const out = h('div', { id: 'new-device-result' });
  const form = h('form', { class: 'inline', id: 'new-device' }, h('b', {}, 'Register a device '), id, name, type,
    h('button', { type: 'submit' }, 'Register'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (id.value.trim()) body.id = id.value.trim();
    if (name.value.trim()) body.name = name.value.trim();
    if (type.value.trim()) body.type = type.value.trim();
    try {
      const r = (await api('POST', '/devices', body)).body;
      out.replaceChildren(h('p', { class: 'secret' }, `Device ${r.device.id} registered. Its token, shown only now: `,
        h('code', { id: 'new-device-token' }, r.token)));
      form.reset();
      done();
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  });
  return form;
}
