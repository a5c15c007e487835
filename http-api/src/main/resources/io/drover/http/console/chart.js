// The device page's time-series chart (uPlot, from its WebJar: the global uPlot).
// The range picks the data: up to 3 h raw samples, up to 3 d the 1-minute rollup, beyond the 1-hour rollup
// (presets: 1 h raw, 24 h 1-minute, 7 d and 30 d 1-hour), followed by the raw samples of the minutes not rolled up
// yet. A range that ends now streams new points in.
import { api, errorBox, every, h, setAge } from './core.js';

const HOUR = 3600e3;
const PRESETS = [['1h', HOUR], ['24h', 24 * HOUR], ['7d', 7 * 24 * HOUR], ['30d', 30 * 24 * HOUR]];
const RAW_LIMIT = 10000;

export function resolution(spanMs) {
  if (spanMs <= 3 * HOUR) return null; // raw
  if (spanMs <= 3 * 24 * HOUR) return '1m';
  return '1h';
}

export function chart(box, path, keys) {
  const keySelect = h('select', { id: 'chart-key', 'aria-label': 'key' });
  const from = h('input', { type: 'datetime-local', id: 'chart-from', step: 1, 'aria-label': 'from' });
  const to = h('input', { type: 'datetime-local', id: 'chart-to', step: 1, 'aria-label': 'to' });
  const info = h('span', { class: 'muted', id: 'chart-info' });
  const newest = h('span', { class: 'age', id: 'chart-age' });
  const message = h('div');
  const plotBox = h('div', { class: 'plot', id: 'chart-plot' });
  const presetButtons = PRESETS.map(([name, span]) => h('button', {
    type: 'button', class: 'range', dataset: { range: name }, onclick: () => { range = { span }; mark(name); load(); },
  }, name));
  box.append(h('div', { class: 'chart-controls' }, keySelect, presetButtons,
    h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); custom(); } }, from, '→', to,
      h('button', { type: 'submit', id: 'chart-custom' }, 'Custom range'))),
  h('p', {}, info, ' ', newest), message, plotBox);

  let range = { span: HOUR };
  let current = null; // {key, from, to, interval, live, xs, ys}
  let plot = null;
  let loading = 0;
  const seen = new Set();

  function setKeys(list) {
    for (const k of list) {
      if (seen.has(k)) continue;
      seen.add(k);
      keySelect.append(h('option', { value: k }, k));
    }
  }
  setKeys(keys);
  keySelect.addEventListener('change', load);

  function mark(name) {
    for (const b of presetButtons) b.classList.toggle('current', b.dataset.range === name);
  }
  mark('1h');

  function custom() {
    const f = Date.parse(from.value);
    const t = Date.parse(to.value);
    if (!(f < t)) {
      message.replaceChildren(errorBox(new Error('Pick a start before the end.')));
      return;
    }
    range = { from: f, to: t };
    mark(null);
    load();
  }

  async function load() {
    const key = keySelect.value;
    if (!key) {
      info.textContent = 'No numeric telemetry yet.';
      return;
    }
    const token = ++loading;
    const now = Date.now();
    const f = range.span ? now - range.span : range.from;
    const t = range.span ? now : range.to;
    const interval = resolution(t - f);
    const p = new URLSearchParams({ keys: key, from: String(f), to: String(t), order: 'asc' });
    if (interval) {
      p.set('agg', 'avg');
      p.set('interval', interval);
    } else {
      p.set('limit', String(RAW_LIMIT));
    }
    let body;
    try {
      body = (await api('GET', path + '/telemetry?' + p)).body;
    } catch (e) {
      if (token === loading) message.replaceChildren(errorBox(e));
      return;
    }
    if (token !== loading) return;
    message.replaceChildren();
    const points = ((body.series || {})[key] || []).filter((x) => typeof x.value === 'number');
    let recent = 0;
    if (interval && range.span) {
      // the newest minutes are not rolled up yet: their raw samples follow the last stored bucket
      const step = interval === '1m' ? 60e3 : HOUR;
      const since = Math.max(points.length ? points[points.length - 1].ts + step : f, t - 2 * HOUR);
      const q = new URLSearchParams({ keys: key, from: String(since), to: String(t), order: 'asc', limit: '1000' });
      try {
        const raw = (((await api('GET', path + '/telemetry?' + q)).body.series || {})[key] || [])
          .filter((x) => typeof x.value === 'number');
        points.push(...raw);
        recent = raw.length;
      } catch (e) { /* the rollups alone */ }
      if (token !== loading) return;
    }
    current = {
      key, from: f, to: t, interval, live: !!range.span,
      xs: points.map((x) => x.ts / 1000), ys: points.map((x) => x.value),
    };
    info.textContent = (interval ? `${interval} averages (rollup)` : 'raw samples') + ` · ${points.length} points`
      + (recent ? ` (the newest ${recent} raw, not rolled up yet)` : '')
      + (body.nextCursor ? ` (the first ${RAW_LIMIT}; narrow the range for the rest)` : '')
      + (current.live ? ' · live' : '');
    box.dataset.resolution = interval || 'raw';
    box.dataset.points = String(points.length);
    setAge(newest, points.length ? points[points.length - 1].ts : null, 'newest point ');
    draw();
  }

  function draw() {
    const width = Math.max(300, plotBox.clientWidth || box.clientWidth || 800);
    const data = [current.xs, current.ys];
    if (plot) plot.destroy();
    plot = new uPlot({
      width, height: 260, cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true, min: current.from / 1000, max: current.to / 1000 } },
      series: [{}, { label: current.key, stroke: '#2563eb', width: 1.5, points: { show: current.xs.length < 200 } }],
    }, data, plotBox);
  }

  const onResize = () => { if (plot) plot.setSize({ width: Math.max(300, plotBox.clientWidth), height: 260 }); };
  window.addEventListener('resize', onResize);
  // rollups move on once a minute: a live aggregate view re-reads; raw views take the points as they come
  const stopRefresh = every(60000, () => { if (current && current.live && current.interval) load(); });

  load();

  return {
    /** New points of a key from the live socket. */
    append(key, points) {
      const numeric = points.filter((x) => typeof x.value === 'number');
      if (numeric.length && !seen.has(key)) {
        setKeys([key]);
        if (!current) load();
      }
      // aggregate views take them too, as the raw tail after the stored buckets (the minute re-read replaces it)
      if (!current || !current.live || key !== current.key || !numeric.length) return;
      const now = Date.now();
      current.from = now - range.span;
      current.to = now;
      for (const x of numeric) {
        if (current.xs.length && x.ts / 1000 < current.xs[current.xs.length - 1]) continue; // late: on the next read
        current.xs.push(x.ts / 1000);
        current.ys.push(x.value);
      }
      while (current.xs.length && current.xs[0] < current.from / 1000) {
        current.xs.shift();
        current.ys.shift();
      }
      setAge(newest, numeric[numeric.length - 1].ts, 'newest point ');
      box.dataset.points = String(current.xs.length);
      plot.setScale('x', { min: current.from / 1000, max: current.to / 1000 });
      plot.setData([current.xs, current.ys], false);
      plot.setScale('x', { min: current.from / 1000, max: current.to / 1000 });
    },
    dispose() {
      window.removeEventListener('resize', onResize);
      stopRefresh();
      if (plot) plot.destroy();
    },
  };
}
