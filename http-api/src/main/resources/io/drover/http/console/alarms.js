// Alarms page: the tenant's alarms with status and severity filters, live over the WebSocket; acknowledge and clear.
import { age, api, errorBox, h, live, session, setAge } from './core.js';

const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'indeterminate'];
const PAGE = 100;

export async function alarmsPage(view) {
  const status = h('select', { id: 'alarm-status', 'aria-label': 'status' },
    h('option', { value: 'active' }, 'active'), h('option', { value: 'cleared' }, 'cleared'), h('option', { value: '' }, 'any status'));
  const severity = h('select', { id: 'alarm-severity', 'aria-label': 'severity' },
    h('option', { value: '' }, 'any severity'), SEVERITIES.map((s) => h('option', { value: s }, s)));
  const device = h('input', { type: 'text', id: 'alarm-device', placeholder: 'device id', 'aria-label': 'device id' });
  const tbody = h('tbody', { id: 'alarm-rows' });
  const more = h('button', { type: 'button', id: 'alarm-more', hidden: true }, 'More');
  const message = h('div');
  const readAge = h('span', { class: 'age' });
  const lastLive = h('span', { class: 'age', id: 'alarm-live-age' });
  const rows = new Map(); // alarm id -> tr
  let cursor = null;
  let loading = 0;

  function matches(a) {
    return (!status.value || a.status === status.value) && (!severity.value || a.severity === severity.value)
      && (!device.value.trim() || a.deviceId === device.value.trim());
  }

  function query(c) {
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (status.value) p.set('status', status.value);
    if (severity.value) p.set('severity', severity.value);
    if (device.value.trim()) p.set('deviceId', device.value.trim());
    if (c) p.set('cursor', c);
    return '/alarms?' + p;
  }

  async function load(append) {
    const token = ++loading;
    try {
      const r = (await api('GET', query(append ? cursor : null))).body;
      if (token !== loading) return;
      if (!append) {
        rows.clear();
        tbody.replaceChildren();
      }
      for (const a of r.items) put(a, false);
      cursor = r.nextCursor || null;
      more.hidden = !cursor;
      message.replaceChildren();
      if (!rows.size) tbody.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 8, class: 'muted' }, 'No alarm matches.')));
      setAge(readAge, Date.now(), 'list read ');
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  function row(a) {
    const actions = [];
    if (session.canWrite && a.status === 'active') {
      if (!a.acknowledged) actions.push(h('button', { type: 'button', class: 'ack', onclick: () => act(a, 'ack') }, 'Acknowledge'));
      actions.push(h('button', { type: 'button', class: 'clear', onclick: () => act(a, 'clear') }, 'Clear'));
    }
    return h('tr', { dataset: { alarmId: a.id, status: a.status, acknowledged: String(a.acknowledged) } },
      h('td', {}, h('span', { class: 'sev ' + a.severity }, a.severity)),
      h('td', {}, a.type),
      h('td', {}, h('a', { href: '#/devices/' + encodeURIComponent(a.deviceId) }, a.deviceId)),
      h('td', {}, a.status, a.acknowledged ? ', acknowledged' : '', a.flapping ? ', flapping' : ''),
      h('td', {}, String(a.occurrences)),
      h('td', {}, age(a.firstSeenAt)),
      h('td', {}, age(a.lastSeenAt)),
      h('td', { class: 'actions' }, actions));
  }

  function put(a, flash) {
    const old = rows.get(a.id);
    if (!matches(a)) {
      if (old) {
        old.remove();
        rows.delete(a.id);
      }
      return;
    }
    const tr = row(a);
    if (flash) tr.classList.add('flash');
    if (old) old.replaceWith(tr);
    else if (flash) tbody.prepend(tr);
    else tbody.append(tr);
    rows.set(a.id, tr);
    const empty = tbody.querySelector('tr.empty');
    if (empty) empty.remove();
  }

  async function act(a, what) {
    try {
      const r = (await api('POST', '/alarms/' + encodeURIComponent(a.id) + '/' + what)).body;
      put(r, true);
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  for (const el of [status, severity]) el.addEventListener('change', () => load(false));
  device.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));

  view.append(h('h1', {}, 'Alarms'), h('div', { class: 'filters' }, status, severity, device),
    h('p', { class: 'muted' }, readAge, ' · last live change ', lastLive), message,
    h('table', { class: 'alarms' },
      h('thead', {}, h('tr', {}, ['Severity', 'Type', 'Device', 'Status', 'Count', 'First seen', 'Last seen', ''].map((t) => h('th', {}, t)))),
      tbody), more);
  setAge(lastLive, null);
  await load(false);
  return live.watchAlarms((a) => {
    setAge(lastLive, Date.now());
    put(a, true);
  });
}
