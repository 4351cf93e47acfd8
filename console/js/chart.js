// Available over time, from a SKU's journal: the series (pure) and its inline SVG chart.

/**
 * Replays journal entries (oldest first, each `{at, location, deltas: {on_hand, reserved,
 * committed}}`) from an empty SKU and returns one point per entry, `{t, available, seq, op}`,
 * where available = Σ per location max(0, on_hand − reserved − committed) — the ledger's own
 * definition. Only a journal read from its first entry gives true values; the caller says so.
 */
export function availableSeries(entries) {
  const levels = new Map();
  const points = [];
  for (const e of entries) {
    const loc = e.location ?? 'main';
    const l = levels.get(loc) ?? { on_hand: 0, reserved: 0, committed: 0 };
    const d = e.deltas ?? {};
    l.on_hand += d.on_hand ?? 0;
    l.reserved += d.reserved ?? 0;
    l.committed += d.committed ?? 0;
    levels.set(loc, l);
    let available = 0;
    for (const v of levels.values()) available += Math.max(0, v.on_hand - v.reserved - v.committed);
    points.push({ t: Date.parse(e.at), available, seq: e.seq, op: e.op });
  }
  return points;
}

const SVG = 'http://www.w3.org/2000/svg';
const el = (tag, attrs) => {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
};

/** A step chart of `points` (from availableSeries) as an accessible inline SVG. */
export function availableChart(points, { width = 640, height = 180 } = {}) {
  const pad = { l: 40, r: 10, t: 10, b: 24 };
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' });
  const last = points.at(-1);
  const title = el('title', {});
  title.textContent = points.length
    ? `Available over time: ${points.length} journal entries, now ${last.available}`
    : 'Available over time: no journal entries';
  svg.append(title);
  if (!points.length) return svg;
  const t0 = points[0].t;
  const t1 = Math.max(last.t, t0 + 1);
  const max = Math.max(1, ...points.map((p) => p.available));
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - (v / max) * (height - pad.t - pad.b);
  let d = `M${x(points[0].t).toFixed(1)},${y(points[0].available).toFixed(1)}`;
  for (let i = 1; i < points.length; i++) {
    d += ` H${x(points[i].t).toFixed(1)} V${y(points[i].available).toFixed(1)}`;
  }
  svg.append(el('line', { x1: pad.l, y1: y(0), x2: width - pad.r, y2: y(0), class: 'axis' }));
  svg.append(el('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: y(0), class: 'axis' }));
  for (const v of [0, max]) {
    const label = el('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' });
    label.textContent = String(v);
    svg.append(label);
  }
  for (const [t, anchor] of [[t0, 'start'], [t1, 'end']]) {
    const label = el('text', { x: x(t), y: height - 6, 'text-anchor': anchor, class: 'tick' });
    label.textContent = new Date(t).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' });
    svg.append(label);
  }
  svg.append(el('path', { d, class: 'line', fill: 'none' }));
  for (const p of points.slice(-200)) {
    const dot = el('circle', { cx: x(p.t), cy: y(p.available), r: 2.5, class: 'dot' });
    const tip = el('title', {});
    tip.textContent = `#${p.seq} ${p.op}: available ${p.available}`;
    dot.append(tip);
    svg.append(dot);
  }
  return svg;
}
