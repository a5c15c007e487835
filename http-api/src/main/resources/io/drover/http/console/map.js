// Map page: every device with a lat/lon in its newest telemetry, clustered (Leaflet + Leaflet.markercluster, from
// their WebJars) over Natural Earth's country shapes (world-atlas, shipped by the node): no tile server.
import { api, errorBox, h, setAge } from './core.js';

const PAGE = 1000;
/** The map reads at most this many devices (10 pages); the note says when it stopped there. */
const MAX_DEVICES = 100000;
let countries = null; // the basemap, parsed once per tab

export async function mapPage(view) {
  const box = h('div', { id: 'map', class: 'map' });
  const info = h('p', { class: 'muted', id: 'map-info' }, 'Reading positions…');
  const readAge = h('span', { class: 'age', id: 'map-age' });
  const message = h('div');
  const refresh = h('button', { type: 'button', id: 'map-refresh' }, 'Refresh');
  view.append(h('h1', {}, 'Map'), h('p', {}, info, ' ', readAge, ' ', refresh), message, box);

  const map = L.map(box, { worldCopyJump: true, minZoom: 1, maxZoom: 18, preferCanvas: false }).setView([20, 0], 2);
  map.attributionControl.addAttribution('Natural Earth (world-atlas)');
  if (!countries) {
    const topo = await (await fetch('/console/vendor/countries-110m.json')).json();
    countries = topojson.feature(topo, topo.objects.countries);
    // shapes that cross the antimeridian (Russia, Fiji) are unwrapped so no ring draws a line across the world;
    // Antarctica (010) rings the pole and is left out
    countries.features = countries.features.filter((f) => f.id !== '010');
    for (const f of countries.features) unwrap(f.geometry);
  }
  L.geoJSON(countries, { interactive: false, style: { color: '#94a3b8', weight: 0.6, fillColor: '#e2e8f0', fillOpacity: 1 } }).addTo(map);
  let added = null; // resolves when addLayers has taken in every marker (it works in chunks, yielding to the page)
  const clusters = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
    chunkProgress: (processed, total) => { if (processed >= total && added) added(); },
  });
  map.addLayer(clusters);

  const icons = {
    on: L.divIcon({ className: 'pin on', iconSize: [12, 12] }),
    off: L.divIcon({ className: 'pin off', iconSize: [12, 12] }),
  };

  async function load() {
    const started = performance.now();
    const items = [];
    let cursor = null;
    let read = 0;
    try {
      do {
        const p = new URLSearchParams({ limit: String(PAGE) });
        if (cursor) p.set('cursor', cursor);
        const r = (await api('GET', '/fleet/positions?' + p)).body;
        items.push(...r.items);
        read += r.devicesRead;
        cursor = r.nextCursor || null;
      } while (cursor && read < MAX_DEVICES);
    } catch (e) {
      message.replaceChildren(errorBox(e));
      return;
    }
    const fetched = performance.now();
    const markers = items.map((d) => {
      const m = L.marker([d.lat, d.lon], { icon: d.online ? icons.on : icons.off, title: d.id });
      m.bindPopup(() => h('div', {}, h('a', { href: '#/devices/' + encodeURIComponent(d.id) }, d.id),
        d.name ? ' ' + d.name : '', h('br'), d.online ? 'online' : 'offline', ' · position ',
        h('span', {}, new Date(d.ts).toISOString())));
      return m;
    });
    clusters.clearLayers();
    const allAdded = new Promise((resolve) => { added = resolve; });
    clusters.addLayers(markers);
    if (!markers.length) added();
    await allAdded;
    if (markers.length && !load.fitted) {
      map.fitBounds(L.latLngBounds(items.map((d) => [d.lat, d.lon])), { maxZoom: 8, padding: [20, 20] });
      load.fitted = true;
    }
    // measured once the browser has painted the clusters
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const done = performance.now();
      box.dataset.markers = String(markers.length);
      box.dataset.fetchMs = String(Math.round(fetched - started));
      box.dataset.renderMs = String(Math.round(done - fetched));
      info.textContent = `${markers.length} of ${read} devices have a position`
        + (cursor ? ` (stopped after ${read} devices)` : '')
        + ` · read in ${Math.round(fetched - started)} ms, drawn in ${Math.round(done - fetched)} ms.`;
    }));
    setAge(readAge, Date.now(), 'positions read ');
  }
  refresh.addEventListener('click', load);
  await load();
  return () => map.remove();
}

function unwrap(g) {
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (let i = 1; i < ring.length; i++) {
        while (ring[i][0] - ring[i - 1][0] > 180) ring[i][0] -= 360;
        while (ring[i][0] - ring[i - 1][0] < -180) ring[i][0] += 360;
      }
    }
  }
}
