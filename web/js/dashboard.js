// The dashboard: incident counts, incidents over time by severity, top
// policies and senders, incidents by action, and the message counters
// (blocked / passed / bypassed) from the running roles' metrics.
import { api } from './api.js';
import { clear, h, label } from './dom.js';
import { horizontalBars, stackedColumns } from './charts.js';

const SEVERITY_SERIES = [
  { key: 'high', label: 'High', color: '#c62828' },
  { key: 'medium', label: 'Medium', color: '#ef6c00' },
  { key: 'low', label: 'Low', color: '#f2b300' },
  { key: 'info', label: 'Info', color: '#78909c' },
];
const ACTION_COLORS = { block: '#c62828', hold: '#ef6c00', redirect: '#6a1b9a', modify: '#1565c0', pass: '#2e7d32', monitored: '#78909c' };
const MESSAGE_COLORS = { blocked: '#c62828', passed: '#2e7d32', bypassed: '#ef6c00' };

function daysBetween(from, count) {
  const start = new Date(from);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + i));
    return d.toISOString().slice(0, 10);
  });
}

function tile(title, value, hint, href) {
  const body = [h('span', { class: 'tile-value' }, Number(value).toLocaleString()), h('span', { class: 'tile-title' }, title),
    hint ? h('span', { class: 'tile-hint muted' }, hint) : null];
  return href ? h('a', { class: 'tile', href }, body) : h('div', { class: 'tile' }, body);
}

function card(title, ...content) {
  return h('section', { class: 'card chart-card' }, h('h2', {}, title), ...content);
}

export async function renderDashboard(context) {
  const days = Number(context.params.get('days')) || 30;
  const stats = await api.stats({ days });
  const dayList = daysBetween(stats.from, days);
  const perDay = new Map();
  for (const d of stats.by_severity_per_day) perDay.set(`${d.day}/${d.severity}`, d.count);
  const m = stats.messages;
  // Charts are drawn at the size they are shown (cards have 18 px padding).
  const full = Math.max(520, context.main.clientWidth - 2 * 24 - 38);
  const half = window.innerWidth > 900 ? Math.floor((full - 16) / 2) : full;
  const range = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' },
    [7, 30, 90].map((n) => h('a', { href: `#/dashboard?days=${n}`, class: n === days ? 'active' : '' }, `${n} days`)));

  clear(context.main, h('section', { class: 'view dashboard-view' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Dashboard'), h('span', { class: 'spacer' }), range),
    h('div', { class: 'tiles' },
      tile('Incidents', stats.total, `last ${days} days`, '#/incidents'),
      tile('New', stats.by_status.new, 'awaiting triage', '#/incidents?status=new'),
      tile('In progress', stats.by_status.in_progress, null, '#/incidents?status=in_progress'),
      tile('Resolved', stats.by_status.resolved + stats.by_status.false_positive, `${stats.by_status.false_positive} false positive`),
      tile('Messages inspected', m.inspected, `${m.received.toLocaleString()} received`),
      tile('Bypassed DLP', m.bypassed, 'delivered uninspected')),
    h('div', { class: 'chart-grid' },
      card('Incidents over time by severity', stats.total === 0
        ? h('p', { class: 'muted empty-chart' }, `No incidents in the last ${days} days.`)
        : stackedColumns({ width: full, days: dayList, series: SEVERITY_SERIES, value: (day, sev) => perDay.get(`${day}/${sev}`) || 0 })),
      card('Messages: blocked, passed, bypassed', m.received === 0
        ? h('p', { class: 'muted empty-chart' }, 'No message has passed through this cordon since it started.')
        : horizontalBars({
          items: ['blocked', 'passed', 'bypassed'].map((k) => ({ label: label(k), key: k, value: m[k] })),
          color: (item) => MESSAGE_COLORS[item.key], width: half,
        })),
      card('Top policies', horizontalBars({
        items: stats.top_policies.map((p) => ({ label: p.policy, value: p.count })), color: '#3b6ea5', width: half,
        emptyText: 'No policy has fired.',
      })),
      card('Top senders', horizontalBars({
        items: stats.top_senders.map((s) => ({ label: s.sender || '<>', value: s.count })), color: '#5c6bc0', width: half,
        emptyText: 'No senders yet.',
      })),
      card('Incidents by action', horizontalBars({
        items: stats.by_action.map((a) => ({ label: label(a.action), key: a.action, value: a.count })),
        color: (item) => ACTION_COLORS[item.key] || '#78909c', width: half, emptyText: 'No incidents yet.',
      })))));
}
