// The console's shared parts: the signed-in key, the API client, the live socket, DOM and time helpers.
// Plain ES module, no build step. Text from the API is always put in the page as text (never as HTML).

const KEY = 'drover.key';

export const session = {
  key: sessionStorage.getItem(KEY),
  me: null,
  get canWrite() { return !!(this.me && this.me.canWrite); },
};

export function signIn(key, me) {
  session.key = key;
  session.me = me;
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  session.key = null;
  session.me = null;
  sessionStorage.removeItem(KEY);
  live.close();
}

/** An answer of the API that is not 2xx: its status and its problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code;
  }
}

/** Calls /api/v1{path} with the key; resolves {status, body, etag}, rejects with ApiError. */
export async function api(method, path, body, headers = {}) {
  const h = { Authorization: 'Bearer ' + session.key, ...headers };
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
  const r = await fetch('/api/v1' + path, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
  });
  const type = r.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await r.json() : null;
  if (!r.ok) {
    const e = new ApiError(r.status, data);
    if (r.status === 401 && session.me) { // signed in, and the key stopped working (revoked, expired)
      signOut();
      location.hash = '#/sign-in';
    }
    throw e;
  }
  return { status: r.status, body: data, etag: r.headers.get('ETag') };
}

/** Builds an element: h('a', {href: '#/x', onclick: f, class: 'c'}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** A message line that shows an API error (its code and detail) or a note. */
export function errorBox(e) {
  const text = e instanceof ApiError
    ? `${e.status} ${e.code || ''}: ${e.message}` + (e.problem.field ? ` (field ${e.problem.field})` : '')
    : String(e && e.message ? e.message : e);
  return h('p', { class: 'error', role: 'alert' }, text);
}

export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('shown'), 4000);
}

// ------------------------------------------------------------------ time

export function ms(t) {
  if (t == null) return null;
  return typeof t === 'number' ? t : Date.parse(t);
}

export function ago(t, now = Date.now()) {
  const s = Math.round((now - t) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

/** A span that says how old {t} is and keeps saying it (every second); title = the exact time. */
export function age(t, prefix = '') {
  const el = h('span', { class: 'age' });
  setAge(el, t, prefix);
  return el;
}

export function setAge(el, t, prefix = '') {
  const v = ms(t);
  if (v == null || Number.isNaN(v)) {
    delete el.dataset.ts;
    el.textContent = prefix + 'never';
    return;
  }
  el.dataset.ts = String(v);
  el.dataset.prefix = prefix;
  el.title = new Date(v).toISOString();
  el.textContent = prefix + ago(v);
}

setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-ts]')) {
    el.textContent = (el.dataset.prefix || '') + ago(Number(el.dataset.ts), now);
  }
}, 1000);

export function iso(t) {
  return t == null ? '' : new Date(ms(t)).toISOString().replace('.000Z', 'Z');
}

export function json(v) {
  return JSON.stringify(v === undefined ? null : v, null, 2);
}

export function formatValue(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 3 : 2).replace(/0+$/, '').replace(/\.$/, '');
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// ------------------------------------------------------------------ live socket

/**
 * One WebSocket per tab (/api/v1/ws), authenticated by the subprotocols `drover` and `bearer.<key>` (the key is
 * never in the URL). Pages watch devices or alarms; the socket resubscribes after a reconnect (backing off to 10 s).
 */
class Live {
  constructor() {
    this.ws = null;
    this.open = false;
    this.devices = new Map(); // deviceId -> Set of handlers
    this.alarms = new Set();
    this.connectivity = new Set();
    this.statusHandlers = new Set();
    this.backoff = 500;
    this.seq = 0;
    this.timer = null;
    this.confirmed = new Set();
    this.alarmsConfirmed = false;
  }

  connect() {
    if (this.ws || !session.key) return;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws';
    const ws = new WebSocket(url, ['drover', 'bearer.' + session.key]);
    this.ws = ws;
    ws.onopen = () => {
      this.open = true;
      this.backoff = 500;
      this.status('live');
      const ids = [...this.devices.keys()];
      if (ids.length) this.send({ type: 'subscribe', id: 'r' + (++this.seq), deviceIds: ids });
      if (this.alarms.size) this.send({ type: 'subscribe', id: 'r' + (++this.seq), alarms: true });
      if (this.connectivity.size) this.send({ type: 'subscribe', id: 'r' + (++this.seq), connectivity: true });
    };
    ws.onmessage = (e) => this.frame(JSON.parse(e.data));
    ws.onclose = () => {
      this.ws = null;
      this.open = false;
      this.confirmed.clear();
      this.alarmsConfirmed = false;
      this.status('reconnecting');
      if (session.key && (this.devices.size || this.alarms.size || this.connectivity.size)) {
        this.timer = setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 10000);
      }
    };
  }

  close() {
    clearTimeout(this.timer);
    this.devices.clear();
    this.alarms.clear();
    this.connectivity.clear();
    if (this.ws) this.ws.close();
    this.ws = null;
  }

  send(m) {
    if (this.open) this.ws.send(JSON.stringify(m));
  }

  status(s) {
    for (const f of this.statusHandlers) f(s);
  }

  frame(m) {
    const received = Date.now();
    if (m.type === 'telemetry') {
      for (const f of this.devices.get(m.deviceId) || []) f(m, received);
    } else if (m.type === 'alarm') {
      for (const f of this.alarms) f(m.alarm, received);
    } else if (m.type === 'connectivity') {
      for (const f of this.connectivity) f(m, received);
    } else if (m.type === 'subscribed' || m.type === 'unsubscribed') {
      // what the server confirmed (tests wait on it before publishing)
      for (const d of m.deviceIds || []) {
        if (m.type === 'subscribed') this.confirmed.add(d); else this.confirmed.delete(d);
      }
      if (m.alarms) this.alarmsConfirmed = m.type === 'subscribed';
      if (m.connectivity) document.body.dataset.liveConnectivity = String(m.type === 'subscribed');
      document.body.dataset.liveDevices = [...this.confirmed].join(',');
      document.body.dataset.liveAlarms = String(!!this.alarmsConfirmed);
    } else if (m.type === 'error') {
      toast('live: ' + m.code + (m.detail ? ' — ' + m.detail : ''));
    }
  }

  /** Calls f(frame, receivedAtMs) for the device's telemetry; returns the function that stops it. */
  watchDevice(id, f) {
    let set = this.devices.get(id);
    if (!set) {
      set = new Set();
      this.devices.set(id, set);
      this.send({ type: 'subscribe', id: 'r' + (++this.seq), deviceIds: [id] });
    }
    set.add(f);
    this.connect();
    return () => {
      set.delete(f);
      if (!set.size) {
        this.devices.delete(id);
        this.send({ type: 'unsubscribe', id: 'r' + (++this.seq), deviceIds: [id] });
      }
    };
  }

  watchAlarms(f) {
    return this.watchTopic('alarms', this.alarms, f);
  }

  /** Calls f({deviceId, online, at, reason}) for every session start and end of the tenant's devices. */
  watchConnectivity(f) {
    return this.watchTopic('connectivity', this.connectivity, f);
  }

  /** A tenant-wide subscription (alarms, connectivity): subscribed with the first handler, left with the last. */
  watchTopic(name, handlers, f) {
    if (!handlers.size) this.send({ type: 'subscribe', id: 'r' + (++this.seq), [name]: true });
    handlers.add(f);
    this.connect();
    return () => {
      handlers.delete(f);
      if (!handlers.size) this.send({ type: 'unsubscribe', id: 'r' + (++this.seq), [name]: true });
    };
  }

  onStatus(f) {
    this.statusHandlers.add(f);
    f(this.open ? 'live' : (this.ws ? 'connecting' : 'off'));
    return () => this.statusHandlers.delete(f);
  }
}

export const live = new Live();

/** Runs f every {everyMs} while the page is shown; returns the function that stops it. */
export function every(everyMs, f) {
  const t = setInterval(f, everyMs);
  return () => clearInterval(t);
}
