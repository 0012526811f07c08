// Small SVG charts drawn by hand (no library, nothing from a CDN): a stacked
// column chart over days (or hours) and a horizontal bar chart. Each bar
// carries a <title> so hovering shows the exact number, and, given an href,
// is a link to the incidents it counts.
import { h, svg } from './dom.js';

// A round axis maximum split into `ticks` equal whole-number steps.
function niceScale(value, ticks = 4) {
  const raw = Math.max(1, value) / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw && Number.isInteger(s)) || Math.ceil(raw);
  return { max: step * ticks, step };
}

// A bar wrapped in a link when there is somewhere to go.
function linked(href, node) {
  return href ? svg('a', { href, class: 'bar-link' }, node) : node;
}

// days: ['YYYY-MM-DD', ...] (or hours); series: [{key, label, color}];
// value(day, key) -> number; href(day, key) -> link or null; tick(day) -> axis text.
// width: the drawing's width in CSS pixels, so text keeps its size.
export function stackedColumns({ days, series, value, href = () => null, tick = (day) => day.slice(5), label = 'Incidents per day by severity', width = 720, height = 240 }) {
  const pad = { top: 12, right: 12, bottom: 28, left: 36 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const totals = days.map((d) => series.reduce((sum, s) => sum + value(d, s.key), 0));
  const { max, step } = niceScale(Math.max(0, ...totals));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'chart', role: 'img', 'aria-label': label });
  for (let v = 0; v <= max; v += step) {
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, Math.round(v)));
  }
  const labelEvery = Math.ceil(days.length / Math.max(2, Math.floor(plotW / 60)));
  days.forEach((day, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const s of series) {
      const v = value(day, s.key);
      if (!v) continue;
      chart.append(linked(href(day, s.key), svg('rect', { x, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)), fill: s.color, class: 'bar', 'data-severity': s.key },
        svg('title', {}, `${day}: ${v} ${s.label}`))));
      base += v;
    }
    if (i % labelEvery === 0) {
      chart.append(svg('text', { x: x + barW / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' }, tick(day)));
    }
  });
  const legend = h('div', { class: 'legend' }, series.map((s) => h('span', {}, h('i', { class: `swatch swatch-${s.key}` }), s.label)));
  return h('figure', { class: 'chart-figure' }, chart, legend);
}

// items: [{label, value, key?, href?}]; color: fill or (item) -> fill
export function horizontalBars({ items, color = '#3b6ea5', emptyText = 'No data', width = 520 }) {
  if (items.length === 0) return h('p', { class: 'muted empty-chart' }, emptyText);
  const rowH = 26;
  const labelW = Math.min(220, Math.round(width * 0.38));
  const height = items.length * rowH + 4;
  const max = Math.max(1, ...items.map((i) => i.value));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'chart hbars', role: 'img' });
  items.forEach((item, i) => {
    const y = i * rowH + 2;
    const w = Math.max(item.value ? 2 : 0, ((width - labelW - 60) * item.value) / max);
    const text = item.label.length > 30 ? `${item.label.slice(0, 29)}…` : item.label;
    chart.append(
      svg('text', { x: labelW - 8, y: y + rowH / 2 + 4, class: 'axis label', 'text-anchor': 'end' }, text, svg('title', {}, item.label)),
      linked(item.href, svg('rect', { x: labelW, y: y + 4, width: w, height: rowH - 8, rx: 3, fill: typeof color === 'function' ? color(item) : color, class: 'bar' },
        svg('title', {}, `${item.label}: ${item.value}`))),
      svg('text', { x: labelW + w + 6, y: y + rowH / 2 + 4, class: 'axis value' }, item.value.toLocaleString()));
  });
  return chart;
}
