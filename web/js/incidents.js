// The incident list: filters (kept in the URL, so back/forward and reload
// keep them), full-text search, sorting, paging and j/k/Enter navigation.
import { api } from './api.js';
import { ACTIONS, SEVERITIES, STATUSES, badge, clear, errorBox, formatTime, h, label } from './dom.js';

const FILTERS = ['q', 'severity', 'status', 'action', 'policy', 'sender', 'recipient', 'from', 'until'];
const SORTABLE = { id: 'ID', time: 'Time', severity: 'Severity', repeat_count: 'Repeats' };
const PAGE_SIZE = 25;

let view = null;  // the mounted list view, reused while only the query changes
export let lastListHash = '#/incidents';

function select(name, title, values) {
  return h('select', { name, 'aria-label': title },
    h('option', { value: '' }, `Any ${title.toLowerCase()}`),
    values.map((v) => h('option', { value: v }, label(v))));
}

function mount(context) {
  const search = h('input', { id: 'search', name: 'q', type: 'search', placeholder: 'Search subject, sender, recipients  ( / )', 'aria-label': 'Search' });
  // Free text with suggestions: incidents may name policies that are no
  // longer configured, so the choices are the configured ones plus those seen.
  const policyOptions = h('datalist', { id: 'policy-options' });
  const policy = h('input', { name: 'policy', list: 'policy-options', placeholder: 'Policy (exact)', 'aria-label': 'Policy' });
  const controls = [
    search,
    select('severity', 'Severity', SEVERITIES),
    select('status', 'Status', STATUSES),
    select('action', 'Action', ACTIONS),
    policy, policyOptions,
    h('input', { name: 'sender', type: 'text', placeholder: 'Sender (exact)', 'aria-label': 'Sender' }),
    h('input', { name: 'recipient', type: 'text', placeholder: 'Recipient contains', 'aria-label': 'Recipient' }),
    h('label', { class: 'inline' }, 'From', h('input', { name: 'from', type: 'date' })),
    h('label', { class: 'inline' }, 'Until', h('input', { name: 'until', type: 'date' })),
  ];
  const reset = h('button', { type: 'button', class: 'secondary' }, 'Clear');
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, controls, reset);
  const summary = h('span', { class: 'summary muted' });
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  const root = h('section', { class: 'view list-view' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Incidents'), summary), form, table, pager);
  clear(context.main, root);

  let timer = null;
  const apply = () => {
    const params = new URLSearchParams(currentParams());
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.value) params.set(el.name, el.value); else params.delete(el.name);
    }
    params.delete('page');
    context.navigate('/incidents', params);
  };
  form.addEventListener('change', apply);
  form.addEventListener('input', (e) => {
    if (e.target.tagName !== 'INPUT' || e.target.type === 'date') return;
    clearTimeout(timer);
    timer = setTimeout(apply, 300);
  });
  reset.addEventListener('click', () => context.navigate('/incidents'));

  Promise.all([api.policies(), api.stats({ days: 366 })]).then(([configured, stats]) => {
    const names = new Set([...configured.policies.map((p) => p.name), ...stats.top_policies.map((p) => p.policy)]);
    for (const name of [...names].sort()) policyOptions.append(h('option', { value: name }));
  }).catch(() => {});

  return { root, form, table, pager, summary, selected: 0, items: [] };
}

function currentParams() {
  return new URLSearchParams(location.hash.split('?')[1] || '');
}

function sortHeader(context, params, key, title) {
  const active = (params.get('sort') || 'id') === key;
  const order = params.get('order') || 'desc';
  const next = new URLSearchParams(params);
  next.set('sort', key);
  next.set('order', active && order === 'desc' ? 'asc' : 'desc');
  next.delete('page');
  return h('th', { 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
    h('a', { href: `#/incidents?${next}`, class: 'sort' }, title, active ? (order === 'asc' ? ' ▲' : ' ▼') : ''));
}

function row(incident, index) {
  const open = `#/incidents/${incident.id}`;
  const recipients = incident.recipients.join(', ');
  return h('tr', { dataset: { index, id: incident.id }, class: 'row', onclick: (e) => {
    if (e.target.tagName !== 'A') location.hash = open;
  } },
  h('td', { class: 'num' }, h('a', { href: open }, `#${incident.id}`)),
  h('td', { class: 'nowrap' }, formatTime(incident.time)),
  h('td', {}, badge('sev', incident.severity)),
  h('td', {}, badge('status', incident.status)),
  h('td', {}, badge('action', incident.action)),
  h('td', { class: 'clip', title: incident.sender }, incident.sender),
  h('td', { class: 'clip', title: recipients }, recipients),
  h('td', { class: 'clip subject', title: incident.subject }, incident.subject || h('span', { class: 'muted' }, '(no subject)')),
  h('td', { class: 'clip' }, incident.policies.map((p) => p.name).join(', ')),
  h('td', { class: 'num' }, incident.repeat_count ? `×${incident.repeat_count + 1}` : ''));
}

function highlight(state) {
  const rows = state.table.querySelectorAll('tr.row');
  rows.forEach((tr, i) => tr.classList.toggle('selected', i === state.selected));
  rows[state.selected]?.scrollIntoView({ block: 'nearest' });
}

export async function renderIncidentList(context) {
  if (!view || !context.main.contains(view.root)) view = mount(context);
  const state = view;
  const params = currentParams();
  lastListHash = location.hash || '#/incidents';
  for (const el of state.form.elements) {
    if (el.name && document.activeElement !== el) el.value = params.get(el.name) || '';
  }
  const page = Math.max(1, Number(params.get('page')) || 1);
  const query = { limit: PAGE_SIZE, page };
  for (const key of [...FILTERS, 'sort', 'order']) if (params.get(key)) query[key] = params.get(key);
  state.table.classList.add('loading');
  let result;
  try {
    result = await api.incidents(query);
  } catch (e) {
    state.table.classList.remove('loading');
    clear(state.table, errorBox(e));
    clear(state.pager);
    throw e.status === 401 ? e : Object.assign(e, { shown: true });
  }
  state.table.classList.remove('loading');
  state.items = result.items;
  state.selected = Math.min(state.selected, Math.max(0, result.items.length - 1));
  const filtered = FILTERS.some((k) => params.get(k));
  if (result.items.length === 0) {
    clear(state.table, h('div', { class: 'empty' },
      h('h2', {}, filtered ? 'No incidents match these filters' : 'No incidents yet'),
      h('p', { class: 'muted' }, filtered
        ? 'Try a wider time range or clear the filters.'
        : 'Incidents appear here when a policy fires on a message.')));
  } else {
    clear(state.table, h('table', { class: 'incidents' },
      h('thead', {}, h('tr', {},
        sortHeader(context, params, 'id', SORTABLE.id), sortHeader(context, params, 'time', SORTABLE.time),
        sortHeader(context, params, 'severity', SORTABLE.severity), h('th', {}, 'Status'), h('th', {}, 'Action'),
        h('th', {}, 'Sender'), h('th', {}, 'Recipients'), h('th', {}, 'Subject'), h('th', {}, 'Policies'),
        sortHeader(context, params, 'repeat_count', SORTABLE.repeat_count))),
      h('tbody', {}, result.items.map(row))));
    highlight(state);
  }
  const first = result.total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(result.total, page * PAGE_SIZE);
  state.summary.textContent = `${first}–${last} of ${result.total}`;
  const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
  const go = (p) => { const next = new URLSearchParams(params); next.set('page', p); context.navigate('/incidents', next); };
  clear(state.pager,
    h('button', { type: 'button', class: 'secondary', disabled: page <= 1, onclick: () => go(page - 1) }, '← Previous'),
    h('span', { class: 'muted' }, `Page ${page} of ${pages}`),
    h('button', { type: 'button', class: 'secondary', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next →'));

  context.setKeys((event) => {
    if (event.key === 'j' || event.key === 'ArrowDown') {
      state.selected = Math.min(state.selected + 1, state.items.length - 1);
      highlight(state);
      return true;
    }
    if (event.key === 'k' || event.key === 'ArrowUp') {
      state.selected = Math.max(state.selected - 1, 0);
      highlight(state);
      return true;
    }
    if (event.key === 'Enter' || event.key === 'o') {
      const incident = state.items[state.selected];
      if (incident) location.hash = `#/incidents/${incident.id}`;
      return Boolean(incident);
    }
    if (event.key === 'n' && page < pages) { go(page + 1); return true; }
    if (event.key === 'p' && page > 1) { go(page - 1); return true; }
    return false;
  });
}
