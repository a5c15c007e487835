// Rules page (list, enable/disable, new from a template) and the rule editor (parser errors at their position,
// a backtest over a chosen range whose alarms are drawn on the chart).
import { age, api, ApiError, errorBox, h, iso, json, session } from './core.js';

export async function rulesPage(view) {
  const tbody = h('tbody', { id: 'rule-rows' });
  const message = h('div');
  const templates = (await api('GET', '/rule-templates')).body.items;
  const pick = h('select', { id: 'rule-template', 'aria-label': 'template' },
    templates.map((t) => h('option', { value: t.id }, `${t.id}: ${t.description}`)));

  async function load() {
    try {
      const r = (await api('GET', '/rules')).body;
      tbody.replaceChildren(...r.items.map(row));
      if (!r.items.length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No rule yet.')));
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }
  function row(r) {
    const toggle = session.canWrite
      ? h('button', { type: 'button', class: 'toggle', onclick: () => setEnabled(r, !r.enabled) }, r.enabled ? 'Disable' : 'Enable')
      : null;
    return h('tr', { dataset: { ruleId: r.id, enabled: String(r.enabled) } },
      h('td', {}, h('a', { href: '#/rules/' + encodeURIComponent(r.id) }, r.name || r.id)),
      h('td', {}, r.enabled ? 'enabled' : 'disabled'),
      h('td', {}, h('code', {}, r.condition || (r.noDataFor ? `no data for ${r.noDataFor}` : ''))),
      h('td', {}, 'v' + r.version), h('td', {}, age(r.updatedAt)), h('td', {}, toggle));
  }
  async function setEnabled(r, on) {
    try {
      await api('POST', '/rules/' + encodeURIComponent(r.id) + (on ? '/enable' : '/disable'));
      load();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }
  view.append(h('h1', {}, 'Rules'),
    session.canWrite ? h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); location.hash = '#/rules/new:' + pick.value; } },
      'New rule from a template: ', pick, h('button', { type: 'submit', id: 'rule-new' }, 'Open in the editor')) : null,
    message,
    h('table', {}, h('thead', {}, h('tr', {}, ['Rule', 'State', 'Condition', 'Version', 'Changed', ''].map((t) => h('th', {}, t)))), tbody));
  await load();
}

const FIELDS = ['name', 'description', 'condition', 'clearCondition', 'for', 'noDataFor'];

export async function rulePage(view, id) {
  const isNew = id.startsWith('new:');
  let rule;
  let version = null;
  if (isNew) {
    const t = (await api('GET', '/rule-templates')).body.items.find((x) => x.id === id.slice(4));
    rule = t ? structuredClone(t.rule) : { name: '', actions: [] };
  } else {
    rule = (await api('GET', '/rules/' + encodeURIComponent(id))).body;
    version = rule.version;
  }
  const inputs = {};
  const ruleId = h('input', { type: 'text', id: 'rule-id', placeholder: 'id (optional)', 'aria-label': 'rule id' });
  for (const f of FIELDS) {
    const multi = f === 'condition' || f === 'clearCondition' || f === 'description';
    inputs[f] = h(multi ? 'textarea' : 'input', {
      id: 'rule-' + f, rows: multi ? 2 : null, type: multi ? null : 'text', spellcheck: 'false', 'aria-label': f,
      value: rule[f] == null ? '' : String(rule[f]),
    });
    if (multi) inputs[f].value = rule[f] == null ? '' : String(rule[f]);
  }
  const trigger = rule.trigger || {};
  const trigDevices = h('input', { type: 'text', id: 'rule-trigger-devices', value: (trigger.deviceIds || []).join(','), 'aria-label': 'device ids' });
  const trigType = h('input', { type: 'text', id: 'rule-trigger-type', value: trigger.type || '', 'aria-label': 'device type' });
  const trigLabels = h('input', { type: 'text', id: 'rule-trigger-labels', value: (trigger.labels || []).join(','), 'aria-label': 'labels' });
  const actions = h('textarea', { id: 'rule-actions', rows: 6, spellcheck: 'false', 'aria-label': 'actions' });
  actions.value = json(rule.actions || []);
  const enabled = h('input', { type: 'checkbox', id: 'rule-enabled', checked: rule.enabled !== false });
  const result = h('div', { id: 'rule-result' });

  function body() {
    const b = {};
    for (const f of FIELDS) if (inputs[f].value.trim()) b[f] = inputs[f].value.trim();
    const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
    const t = {};
    if (list(trigDevices.value).length) t.deviceIds = list(trigDevices.value);
    if (trigType.value.trim()) t.type = trigType.value.trim();
    if (list(trigLabels.value).length) t.labels = list(trigLabels.value);
    if (Object.keys(t).length) b.trigger = t;
    try {
      b.actions = JSON.parse(actions.value || '[]');
    } catch (e) {
      throw new ApiError(400, { code: 'invalid-json', field: 'actions', detail: 'actions are not JSON: ' + e.message });
    }
    b.enabled = enabled.checked;
    if (isNew && ruleId.value.trim()) b.id = ruleId.value.trim();
    return b;
  }

  /** A 400 with field and position: the field is marked and the text shown with a caret under the position. */
  function showError(e) {
    for (const el of view.querySelectorAll('.invalid')) el.classList.remove('invalid');
    if (!(e instanceof ApiError)) {
      result.replaceChildren(errorBox(e));
      return;
    }
    const field = e.problem.field;
    const el = field && (inputs[field] || (field.startsWith('actions') ? actions : null)
      || (field.startsWith('trigger') ? trigDevices : null));
    const parts = [errorBox(e)];
    if (el) {
      el.classList.add('invalid');
      const pos = e.problem.position;
      if (pos != null && inputs[field]) {
        const text = inputs[field].value.trim();
        parts.push(h('pre', { class: 'caret', id: 'rule-error-position' }, text + '\n' + ' '.repeat(Math.max(0, pos)) + '^ here'));
        inputs[field].focus();
        inputs[field].setSelectionRange(pos, Math.min(text.length, pos + 1));
      }
    }
    result.replaceChildren(...parts);
  }

  async function save(ev) {
    ev.preventDefault();
    try {
      const b = body();
      const r = isNew ? await api('POST', '/rules', b)
        : await api('PUT', '/rules/' + encodeURIComponent(rule.id), b, { 'If-Match': '"' + version + '"' });
      result.replaceChildren(h('p', { class: 'ok', id: 'rule-saved' }, `Saved: version ${r.body.version}.`));
      if (isNew) location.hash = '#/rules/' + encodeURIComponent(r.body.id);
      else version = r.body.version;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        result.replaceChildren(h('p', { class: 'conflict', role: 'alert' }, 'Version conflict: the rule changed since you opened it (you have version '
          + version + '). Reload the page to see it; your edit was not saved.'));
      } else {
        showError(e);
      }
    }
  }

  // ---------------------------------------------------------------- backtest
  const now = Date.now();
  const local = (t) => new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  const btFrom = h('input', { type: 'datetime-local', id: 'backtest-from', step: 1, value: local(now - 24 * 3600e3), 'aria-label': 'from' });
  const btTo = h('input', { type: 'datetime-local', id: 'backtest-to', step: 1, value: local(now), 'aria-label': 'to' });
  const btDevices = h('input', { type: 'text', id: 'backtest-devices', placeholder: 'device ids (default: the trigger’s)', 'aria-label': 'backtest devices' });
  const btKey = h('input', { type: 'text', id: 'backtest-key', placeholder: 'key to chart', 'aria-label': 'chart key' });
  const btResult = h('div', { id: 'backtest-result' });
  const btPlot = h('div', { class: 'plot', id: 'backtest-plot' });
  let plot = null;

  async function backtest(ev) {
    ev.preventDefault();
    let b;
    try {
      b = body();
    } catch (e) {
      showError(e);
      return;
    }
    const from = new Date(btFrom.value).getTime();
    const to = new Date(btTo.value).getTime();
    const devices = btDevices.value.split(',').map((x) => x.trim()).filter(Boolean);
    btResult.replaceChildren(h('p', { class: 'muted' }, 'Replaying…'));
    result.replaceChildren();
    for (const el of view.querySelectorAll('.invalid')) el.classList.remove('invalid');
    try {
      const req = { rule: b, from: iso(from), to: iso(to) };
      if (devices.length) req.deviceIds = devices;
      const r = (await api('POST', '/rules/test', req)).body;
      btResult.replaceChildren(h('p', { id: 'backtest-summary' },
        `${r.alarms.length} alarm${r.alarms.length === 1 ? '' : 's'} and ${r.actions.length} action${r.actions.length === 1 ? '' : 's'} `
          + `over ${r.messages} messages of ${r.devices} device${r.devices === 1 ? '' : 's'}` + (r.truncated ? ' (stopped at its bound)' : '') + '.'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Device', 'Alarm', 'Severity', 'Raised', 'Cleared'].map((t) => h('th', {}, t)))),
        h('tbody', {}, r.alarms.map((a) => h('tr', {}, h('td', {}, a.deviceId), h('td', {}, a.type), h('td', {}, h('span', { class: 'sev ' + a.severity }, a.severity)),
          h('td', {}, iso(a.raisedAt || a.since)), h('td', {}, a.clearedAt ? iso(a.clearedAt) : '—'))))));
      await drawBacktest(r, from, to, devices);
    } catch (e) {
      showError(e);
      btResult.replaceChildren(errorBox(e));
    }
  }

  /** The chart of one device's key over the range, the alarms the replay raised drawn as bands. */
  async function drawBacktest(r, from, to, devices) {
    const device = devices[0] || (r.alarms[0] && r.alarms[0].deviceId) || (b0().trigger && (b0().trigger.deviceIds || [])[0]);
    const key = btKey.value.trim() || keyOf(inputs.condition.value);
    if (plot) { plot.destroy(); plot = null; }
    if (!device || !key) {
      btPlot.replaceChildren(h('p', { class: 'muted' }, 'Name a device and a key to see the chart.'));
      return;
    }
    // raw samples: what the replay itself read (a backtest covers at most max-backtest-range, 7 d by default)
    const p = new URLSearchParams({ keys: key, from: String(from), to: String(to), order: 'asc', limit: '10000' });
    const t = (await api('GET', '/devices/' + encodeURIComponent(device) + '/telemetry?' + p)).body;
    const pts = ((t.series || {})[key] || []).filter((x) => typeof x.value === 'number');
    const bands = r.alarms.filter((a) => a.deviceId === device)
      .map((a) => [Date.parse(a.raisedAt || a.since) / 1000, a.clearedAt ? Date.parse(a.clearedAt) / 1000 : to / 1000]);
    btPlot.replaceChildren(t.nextCursor ? h('p', { class: 'muted' }, 'The chart shows the first 10,000 samples of the range.') : '');
    btPlot.dataset.bands = String(bands.length);
    btPlot.dataset.points = String(pts.length);
    plot = new uPlot({
      width: Math.max(300, btPlot.clientWidth || 800), height: 240,
      scales: { x: { time: true, min: from / 1000, max: to / 1000 } },
      series: [{}, { label: `${device} ${key}`, stroke: '#2563eb', width: 1.5 }],
      hooks: {
        drawClear: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = 'rgba(220, 38, 38, 0.15)';
          for (const [a, b] of bands) {
            const x0 = u.valToPos(a, 'x', true);
            const x1 = u.valToPos(b, 'x', true);
            ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
          }
          ctx.restore();
        }],
      },
    }, [pts.map((x) => x.ts / 1000), pts.map((x) => x.value)], btPlot);
  }
  function b0() {
    try { return body(); } catch (e) { return {}; }
  }

  view.append(h('p', {}, h('a', { href: '#/rules' }, '← Rules')),
    h('h1', {}, isNew ? 'New rule' : (rule.name || rule.id), isNew ? '' : h('span', { class: 'muted' }, ` v${version}`)),
    h('form', { id: 'rule-form', class: 'rule-form', onsubmit: save },
      isNew ? [h('label', {}, 'Id'), ruleId] : null,
      FIELDS.map((f) => [h('label', { for: 'rule-' + f }, f), inputs[f]]),
      h('label', {}, 'Trigger: device ids'), trigDevices, h('label', {}, 'Trigger: device type'), trigType,
      h('label', {}, 'Trigger: labels'), trigLabels,
      h('label', { for: 'rule-actions' }, 'actions (JSON)'), actions,
      h('label', {}, enabled, ' enabled'),
      session.canWrite ? h('button', { type: 'submit', id: 'rule-save' }, isNew ? 'Create' : 'Save') : null, result),
    h('h2', {}, 'Backtest'),
    h('form', { class: 'inline', id: 'backtest-form', onsubmit: backtest }, btFrom, '→', btTo, btDevices, btKey,
      h('button', { type: 'submit', id: 'backtest-run' }, 'Replay the stored telemetry')),
    h('p', { class: 'muted' }, 'Runs the rule as it stands in the editor over what was stored in the range, without raising anything.'),
    btResult, btPlot);
  return () => { if (plot) plot.destroy(); };
}

/** The first telemetry key a condition names (not a function such as rate(...)). */
export function keyOf(condition) {
  const re = /[A-Za-z_][\w.]*/g;
  let m;
  while ((m = re.exec(condition || ''))) {
    const after = condition.slice(m.index + m[0].length).trimStart();
    if (!after.startsWith('(') && !['true', 'false', 'null', 'and', 'or', 'not'].includes(m[0])) return m[0];
  }
  return null;
}
