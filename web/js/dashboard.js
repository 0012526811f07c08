// The dashboard: incident counts, incidents over time by severity (per day
// over the range, per hour over the last 24 hours), top policies, senders
// and recipient domains, incidents by action, and the message counters
// (blocked / passed / bypassed) from the running roles' metrics. Each
// incident bar links to the incident list filtered to what it counts.
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

// The last 24 hours, hour by hour: ['YYYY-MM-DDTHH', ...] ending at `until`.
function lastHours(until) {
  const end = new Date(until);
  end.setUTCMinutes(0, 0, 0);
  return Array.from({ length: 24 }, (_, i) => new Date(end.getTime() - (23 - i) * 3600e3).toISOString().slice(0, 13));
}

function incidentsHref(filters) {
  return `#/incidents?${new URLSearchParams(filters)}`;
}

function dayHref(day, severity) {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return incidentsHref({ from: `${day}T00:00:00Z`, until: next.toISOString().replace('.000Z', 'Z'), severity });
}

function hourHref(hour, severity) {
  const start = new Date(`${hour}:00:00Z`);
  const end = new Date(start.getTime() + 3600e3);
  return incidentsHref({ from: start.toISOString().replace('.000Z', 'Z'), until: end.toISOString().replace('.000Z', 'Z'), severity });
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
  const hourList = lastHours(stats.until);
  const perHour = new Map();
  for (const d of stats.by_severity_per_hour) perHour.set(`${d.hour}/${d.severity}`, d.count);
  const lastDay = stats.by_severity_per_hour.reduce((sum, d) => sum + d.count, 0);
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
        : stackedColumns({ width: full, days: dayList, series: SEVERITY_SERIES, value: (day, sev) => perDay.get(`${day}/${sev}`) || 0, href: dayHref })),
      card('Last 24 hours by severity', lastDay === 0
        ? h('p', { class: 'muted empty-chart' }, 'No incidents in the last 24 hours.')
        : stackedColumns({
          width: half, days: hourList, series: SEVERITY_SERIES, value: (hour, sev) => perHour.get(`${hour}/${sev}`) || 0,
          href: hourHref, tick: (hour) => `${hour.slice(11)}h`, label: 'Incidents per hour by severity (UTC)', height: 200,
        })),
      card('Messages: blocked, passed, bypassed', m.received === 0
        ? h('p', { class: 'muted empty-chart' }, 'No message has passed through this cordon since it started.')
        : horizontalBars({
          items: ['blocked', 'passed', 'bypassed'].map((k) => ({ label: label(k), key: k, value: m[k] })),
          color: (item) => MESSAGE_COLORS[item.key], width: half,
        })),
      card('Top policies', horizontalBars({
        items: stats.top_policies.map((p) => ({ label: p.policy, value: p.count, href: incidentsHref({ policy: p.policy }) })), color: '#3b6ea5', width: half,
        emptyText: 'No policy has fired.',
      })),
      card('Top senders', horizontalBars({
        items: stats.top_senders.map((s) => ({ label: s.sender || '<>', value: s.count, href: s.sender ? incidentsHref({ sender: s.sender }) : null })), color: '#5c6bc0', width: half,
        emptyText: 'No senders yet.',
      })),
      card('Top recipient domains', horizontalBars({
        items: stats.top_recipient_domains.map((d) => ({ label: d.domain || '(none)', value: d.count, href: d.domain ? incidentsHref({ recipient: `@${d.domain}` }) : null })), color: '#00838f', width: half,
        emptyText: 'No recipients yet.',
      })),
      card('Incidents by action', horizontalBars({
        items: stats.by_action.map((a) => ({ label: label(a.action), key: a.action, value: a.count, href: incidentsHref({ action: a.action }) })),
        color: (item) => ACTION_COLORS[item.key] || '#78909c', width: half, emptyText: 'No incidents yet.',
      })))));
}
