// Device page: metadata and lifecycle, live value cards, the chart, the shadow and its editor, commands, history.
import { age, api, ApiError, errorBox, every, formatValue, h, iso, json, live, session, setAge, toast } from './core.js';
import { chart } from './chart.js';

export async function devicePage(view, id) {
  const path = '/devices/' + encodeURIComponent(id);
  const stops = [];
  const head = h('section', { id: 'device-head' });
  const cards = h('section', { class: 'cards', id: 'cards' });
  const cardsNote = h('p', { class: 'muted' });
  const chartBox = h('section', { id: 'chart' });
  const shadowBox = h('section', { id: 'shadow', class: 'card' });
  const commandsBox = h('section', { id: 'commands', class: 'card' });
  const historyBox = h('section', { id: 'history', class: 'card' });

  view.append(h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')), head,
    h('h2', {}, 'Latest values'), cardsNote, cards, h('h2', {}, 'Chart'), chartBox,
    h('div', { class: 'columns' }, shadowBox, h('div', {}, commandsBox, historyBox)));

  // ---------------------------------------------------------------- metadata, lifecycle
  let device;
  async function loadDevice() {
    device = (await api('GET', path)).body;
    renderHead();
  }
  function renderHead() {
    const c = device.connectivity || {};
    const actions = [];
    if (session.canWrite && device.state !== 'decommissioned') {
      if (device.state === 'suspended') actions.push(button('Activate', 'activate', () => lifecycle('activate')));
      else actions.push(button('Suspend', 'suspend', () => lifecycle('suspend')));
      actions.push(button('Rotate token', 'rotate', rotate));
    }
    head.replaceChildren(
      h('h1', {}, device.name || device.id, ' ', h('span', { class: 'state ' + device.state, id: 'device-state' }, device.state)),
      h('dl', { class: 'meta' },
        dt('Id', device.id), dt('Type', device.type || '—'), dt('Labels', (device.labels || []).join(', ') || '—'),
        dt('Connection', h('span', { class: c.online ? 'dot on' : 'dot off', id: 'device-online' }, c.online ? 'online' : 'offline'),
          c.online && c.node ? ' on ' + c.node : ''),
        dt('Last connected', age(c.lastConnectedAt)), dt('Last disconnected', age(c.lastDisconnectedAt),
          c.lastDisconnectReason ? ' (' + c.lastDisconnectReason + ')' : ''),
        dt('Last seen', age(c.lastSeenAt)), dt('Registered', age(device.createdAt)),
        dt('Credentials', device.certificateFingerprint ? 'token and X.509 certificate' : 'token',
          device.credentialsRotatedAt ? ['; rotated ', age(device.credentialsRotatedAt)] : ''),
        dt('Attributes', device.attributes && Object.keys(device.attributes).length ? json(device.attributes) : '—')),
      h('div', { class: 'actions' }, actions), h('div', { id: 'head-result' }));
  }
  function dt(k, ...v) {
    return [h('dt', {}, k), h('dd', {}, ...v)];
  }
  function button(text, idSuffix, f) {
    return h('button', { type: 'button', id: 'action-' + idSuffix, onclick: f }, text);
  }
  async function lifecycle(action) {
    try {
      device = (await api('POST', path + '/' + action)).body;
      renderHead();
      toast(`${device.id} is ${device.state}`);
    } catch (e) {
      head.querySelector('#head-result').replaceChildren(errorBox(e));
    }
  }
  async function rotate() {
    if (!confirm('Rotate the token? The current token stops working at once.')) return;
    try {
      const r = (await api('POST', path + '/credentials/rotate')).body;
      device = r.device;
      renderHead();
      head.querySelector('#head-result').replaceChildren(h('p', { class: 'secret' },
        'The new token, shown only now (copy it to the device): ', h('code', { id: 'rotated-token' }, r.token)));
    } catch (e) {
      head.querySelector('#head-result').replaceChildren(errorBox(e));
    }
  }

  // ---------------------------------------------------------------- latest values, live
  const cardFor = new Map();
  function card(key) {
    let c = cardFor.get(key);
    if (!c) {
      c = {
        value: h('div', { class: 'card-value' }),
        age: h('span', { class: 'age' }),
        delay: h('span', { class: 'delay' }),
      };
      c.el = h('div', { class: 'card value-card', dataset: { key } }, h('div', { class: 'card-title' }, key), c.value,
        h('div', { class: 'card-sub' }, c.age, ' ', c.delay));
      cardFor.set(key, c);
      const sorted = [...cardFor.keys()].sort();
      cards.replaceChildren(...sorted.map((k) => cardFor.get(k).el));
    }
    return c;
  }
  function show(key, point, receivedAt, displayedAt) {
    const c = card(key);
    c.value.textContent = formatValue(point.value);
    setAge(c.age, point.ts, 'sample ');
    if (receivedAt != null) {
      const delay = displayedAt - receivedAt;
      c.delay.textContent = `· ingest → display ${delay} ms`;
      c.el.dataset.delayMs = String(delay);
      c.el.classList.remove('flash');
      void c.el.offsetWidth;
      c.el.classList.add('flash');
    } else {
      c.delay.textContent = '· stored value';
    }
  }
  async function loadLatest() {
    const r = (await api('GET', path + '/telemetry/latest')).body;
    const keys = Object.keys(r.values || {});
    for (const k of keys) show(k, r.values[k], null);
    cardsNote.textContent = keys.length ? '' : 'No telemetry yet: values appear here as the device sends them.';
    return keys.filter((k) => typeof r.values[k].value === 'number');
  }

  // ---------------------------------------------------------------- shadow and its editor
  let shadow = null;
  let shadowVersion = null;
  const editor = h('textarea', { id: 'desired-editor', rows: 8, spellcheck: 'false', 'aria-label': 'desired state' });
  const editorResult = h('div', { id: 'shadow-result' });
  async function loadShadow(resetEditor) {
    const r = await api('GET', path + '/shadow');
    shadow = r.body;
    shadowVersion = versionOf(r.etag) ?? shadow.version;
    renderShadow(resetEditor);
  }
  function renderShadow(resetEditor) {
    if (resetEditor || !editor.value) editor.value = json(shadow.desired || {});
    editor.dataset.version = String(shadowVersion);
    shadowBox.replaceChildren(
      h('h2', {}, 'Shadow ', h('span', { class: 'muted', id: 'shadow-version' }, 'version ' + shadowVersion), ' ',
        age(shadow.updatedAt, 'changed ')),
      h('div', { class: 'shadow-docs' },
        doc('Desired', shadow.desired, 'shadow-desired'), doc('Reported', shadow.reported, 'shadow-reported'),
        doc('Delta', shadow.delta, 'shadow-delta')),
      ...(session.canWrite ? [h('h3', {}, 'Edit desired'),
        h('p', { class: 'muted' }, 'Edit the JSON; the console sends what changed as a merge patch, with If-Match: the version you loaded.'),
        editor, h('div', { class: 'actions' },
          h('button', { type: 'button', id: 'desired-send', onclick: sendDesired }, 'Send'),
          h('button', { type: 'button', id: 'desired-reload', onclick: () => loadShadow(true).then(() => editorResult.replaceChildren()) }, 'Reload')),
        editorResult] : []));
  }
  function doc(title, v, id) {
    return h('div', {}, h('h3', {}, title), h('pre', { id }, json(v || {})));
  }
  async function sendDesired() {
    let edited;
    try {
      edited = JSON.parse(editor.value);
    } catch (e) {
      editorResult.replaceChildren(errorBox(new Error('Not JSON: ' + e.message)));
      return;
    }
    if (edited === null || typeof edited !== 'object' || Array.isArray(edited)) {
      editorResult.replaceChildren(errorBox(new Error('The desired state is a JSON object.')));
      return;
    }
    const patch = mergePatch(shadow.desired || {}, edited);
    if (!Object.keys(patch).length) {
      editorResult.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed.'));
      return;
    }
    const expected = shadowVersion;
    try {
      const r = await api('PATCH', path + '/shadow/desired', patch,
        { 'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + expected + '"' });
      shadow = r.body;
      shadowVersion = versionOf(r.etag) ?? shadow.version;
      renderShadow(true);
      editorResult.replaceChildren(h('p', { class: 'ok', id: 'shadow-saved' }, `Saved: version ${shadowVersion}.`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        let now = null;
        try { now = (await api('GET', path + '/shadow')).body.version; } catch (x) { /* shown without it */ }
        editorResult.replaceChildren(h('div', { class: 'conflict', id: 'shadow-conflict', role: 'alert' },
          h('b', {}, 'Version conflict: '),
          `you edited version ${expected}, but the shadow is now at version ${now ?? 'a newer one'} `
            + '(someone or the device changed it meanwhile). Your change was not applied. ',
          h('button', { type: 'button', id: 'conflict-reload', onclick: () => loadShadow(true).then(() => editorResult.replaceChildren()) },
            'Load the current shadow')));
      } else {
        editorResult.replaceChildren(errorBox(e));
      }
    }
  }

  // ---------------------------------------------------------------- commands
  const cmdName = h('input', { type: 'text', id: 'command-name', placeholder: 'name, e.g. reboot', 'aria-label': 'command name' });
  const cmdParams = h('textarea', { id: 'command-params', rows: 3, spellcheck: 'false', 'aria-label': 'command params' }, '{}');
  const cmdTwoWay = h('input', { type: 'checkbox', id: 'command-two-way' });
  const cmdPersistent = h('input', { type: 'checkbox', id: 'command-persistent' });
  const cmdTimeout = h('input', { type: 'number', id: 'command-timeout', min: 1, max: 18, value: 10, 'aria-label': 'timeout seconds' });
  const cmdResult = h('div', { id: 'command-result' });
  const cmdList = h('tbody', { id: 'command-rows' });
  async function sendCommand(ev) {
    ev.preventDefault();
    let params;
    try {
      params = JSON.parse(cmdParams.value || '{}');
    } catch (e) {
      cmdResult.replaceChildren(errorBox(new Error('params are not JSON: ' + e.message)));
      return;
    }
    const body = { name: cmdName.value.trim(), params, twoWay: cmdTwoWay.checked, persistent: cmdPersistent.checked };
    if (cmdTwoWay.checked) body.timeoutSeconds = Number(cmdTimeout.value);
    cmdResult.replaceChildren(h('p', { class: 'muted' }, 'Sending…'));
    try {
      const r = await api('POST', path + '/commands', body);
      cmdResult.replaceChildren(h('p', { class: 'ok' }, `${r.body.name}: ${r.body.status}`,
        r.body.response !== undefined ? [' — response ', h('code', {}, JSON.stringify(r.body.response))] : ''));
    } catch (e) {
      cmdResult.replaceChildren(errorBox(e));
    }
    loadCommands();
  }
  async function loadCommands() {
    try {
      const r = (await api('GET', path + '/commands')).body;
      cmdList.replaceChildren(...r.items.slice(0, 20).map((c) => h('tr', {},
        h('td', {}, c.name), h('td', {}, h('span', { class: 'cmd ' + c.status }, c.status)),
        h('td', {}, c.twoWay ? 'two-way' : 'one-way', c.persistent ? ', persistent' : ''),
        h('td', {}, age(c.requestedAt)),
        h('td', {}, c.response !== undefined ? JSON.stringify(c.response) : (c.failure || '')))));
    } catch (e) {
      cmdList.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, errorBox(e))));
    }
  }
  commandsBox.append(h('h2', {}, 'Commands'),
    session.canWrite ? h('form', { id: 'command-form', onsubmit: sendCommand },
      cmdName, h('label', {}, 'params (JSON)'), cmdParams,
      h('label', {}, cmdTwoWay, ' two-way, wait up to ', cmdTimeout, ' s for the answer'),
      h('label', {}, cmdPersistent, ' persistent (queued while offline)'),
      h('button', { type: 'submit' }, 'Send command'), cmdResult) : null,
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Status', 'Kind', 'Requested', 'Response'].map((t) => h('th', {}, t)))), cmdList));

  // ---------------------------------------------------------------- shadow history
  const atInput = h('input', { type: 'datetime-local', id: 'history-at', step: 1, 'aria-label': 'time' });
  const atResult = h('div', { id: 'history-result' });
  const changes = h('ol', { id: 'history-changes', reversed: true });
  async function loadHistory() {
    try {
      const r = (await api('GET', path + '/shadow/history?limit=20')).body;
      changes.replaceChildren(...r.changes.slice().reverse().map((c) => h('li', {},
        h('a', { href: '#', onclick: (e) => { e.preventDefault(); shadowAt(c.at); } }, 'v' + c.version), ' ',
        c.document, ' ', age(c.at), ' ', h('code', {}, JSON.stringify(c.patch)))));
      if (!r.changes.length) changes.append(h('li', { class: 'muted' }, 'No change yet.'));
    } catch (e) {
      changes.replaceChildren(h('li', {}, errorBox(e)));
    }
  }
  async function shadowAt(at) {
    try {
      // a change's own time as the API wrote it (sub-millisecond): the shadow right after that change
      const when = typeof at === 'string' ? at : iso(at);
      const r = (await api('GET', path + '/shadow/history?at=' + encodeURIComponent(when))).body;
      atResult.replaceChildren(h('p', {}, 'The shadow at ', iso(r.at), ' (version ', String(r.shadow.version), '):'),
        h('pre', { id: 'history-shadow' }, json({ desired: r.shadow.desired, reported: r.shadow.reported })));
    } catch (e) {
      atResult.replaceChildren(errorBox(e));
    }
  }
  historyBox.append(h('h2', {}, 'Shadow history'),
    h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); if (atInput.value) shadowAt(new Date(atInput.value).getTime()); } },
      'The shadow at ', atInput, h('button', { type: 'submit' }, 'Show')), atResult,
    h('p', { class: 'muted' }, 'The last 20 changes (newest first); a version shows the shadow right after it.'), changes);

  // ---------------------------------------------------------------- load, then go live
  await loadDevice();
  const [keys] = await Promise.all([loadLatest(), loadShadow(true), loadCommands(), loadHistory()]);
  const plot = chart(chartBox, path, keys);
  stops.push(() => plot.dispose());
  stops.push(live.watchDevice(id, (frame, displayedAt) => {
    cardsNote.textContent = '';
    for (const [key, points] of Object.entries(frame.series || {})) {
      for (const p of points) show(key, p, p.receivedAt, displayedAt);
      plot.append(key, points);
    }
  }));
  // connection, shadow (reported changes from the device) and commands are re-read: they have no live frame
  stops.push(every(5000, () => {
    loadDevice().catch(() => {});
    if (document.activeElement !== editor) {
      api('GET', path + '/shadow').then((r) => {
        const v = versionOf(r.etag) ?? r.body.version;
        if (v !== shadowVersion && !editorDirty()) {
          shadow = r.body;
          shadowVersion = v;
          renderShadow(true);
        }
      }).catch(() => {});
    }
  }));
  function editorDirty() {
    try {
      return JSON.stringify(JSON.parse(editor.value)) !== JSON.stringify(shadow.desired || {});
    } catch (e) {
      return true;
    }
  }
  return () => stops.forEach((s) => s());
}

function versionOf(etag) {
  if (!etag) return null;
  const m = etag.match(/"?(\d+)"?/);
  return m ? Number(m[1]) : null;
}

/** The JSON merge patch (RFC 7386) that turns {from} into {to}. */
export function mergePatch(from, to) {
  const patch = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (isObject(v) && isObject(old)) {
      const inner = mergePatch(old, v);
      if (Object.keys(inner).length) patch[k] = inner;
    } else if (JSON.stringify(v) !== JSON.stringify(old)) {
      patch[k] = v;
    }
  }
  return patch;
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

