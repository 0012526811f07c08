// The incident list: filters (kept in the URL, so back/forward and reload
// keep them), partial-match search fields, saved filters, sorting, paging,
// j/k/Enter navigation, selection for bulk triage, CSV export of the
// current filter, and live updates while it is open (GET /changes).
import { api } from './api.js';
import { ACTIONS, SEVERITIES, STATUSES, badge, clear, errorBox, formatTime, h, label } from './dom.js';

// `policy` and `sender` (exact) come from the dashboard's bars; the form has no field for them.
const FILTERS = ['q', 'severity', 'status', 'action', 'assignee', 'policy', 'policy_contains', 'sender',
  'sender_contains', 'recipient', 'subject', 'from', 'until'];
const SORTABLE = { id: 'ID', time: 'Time', severity: 'Severity', repeat_count: 'Repeats' };
const PAGE_SIZE = 25;
// Mirrors the server's workflow, for the bulk status choice (it decides per incident).
const BULK_STATUSES = ['in_progress', 'resolved', 'false_positive'];

let view = null;  // the mounted list view, reused while only the query changes
export let lastListHash = '#/incidents';

function select(name, title, values, extra = []) {
  return h('select', { name, 'aria-label': title },
    h('option', { value: '' }, `Any ${title.toLowerCase()}`),
    extra,
    values.map((v) => h('option', { value: v }, label(v))));
}

function currentParams() {
  return new URLSearchParams(location.hash.split('?')[1] || '');
}

// The list's filters only (no paging or sort): what a saved filter keeps.
function filterQuery(params) {
  const out = new URLSearchParams();
  for (const key of [...FILTERS, 'sort', 'order']) if (params.get(key)) out.set(key, params.get(key));
  return out;
}

function savedFilters(context, state) {
  const choose = h('select', { id: 'saved-filters', 'aria-label': 'Saved filters' });
  const name = h('input', { id: 'save-name', type: 'text', maxlength: 100, placeholder: 'Name this filter', 'aria-label': 'Filter name' });
  const error = h('span', { class: 'error-text', role: 'alert' });
  const fill = (filters) => {
    state.saved = filters;
    clear(choose, h('option', { value: '' }, filters.length ? 'Saved filters…' : 'No saved filters'),
      filters.map((f) => h('option', { value: f.name }, f.name)));
  };
  choose.addEventListener('change', () => {
    const f = state.saved.find((x) => x.name === choose.value);
    if (f) context.navigate('/incidents', new URLSearchParams(f.query));
  });
  const save = h('button', { type: 'button', class: 'secondary', id: 'save-filter', onclick: async () => {
    error.textContent = '';
    if (!name.value.trim()) { error.textContent = 'Name it first.'; return; }
    try {
      fill((await api.saveFilter(name.value.trim(), filterQuery(currentParams()).toString())).filters);
      choose.value = name.value.trim();
      name.value = '';
    } catch (e) { error.textContent = e.message; }
  } }, 'Save filter');
  const remove = h('button', { type: 'button', class: 'link-dark', title: 'Delete the chosen saved filter', onclick: async () => {
    if (!choose.value) return;
    try { fill((await api.deleteFilter(choose.value)).filters); } catch (e) { error.textContent = e.message; }
  } }, 'Delete');
  api.filters().then((r) => fill(r.filters)).catch(() => fill([]));
  return h('div', { class: 'saved' }, choose, remove, name, save, error);
}

function bulkBar(context, state) {
  const count = h('strong', { class: 'bulk-count' });
  const status = h('select', { name: 'bulk-status', 'aria-label': 'New status' },
    h('option', { value: '' }, 'Status unchanged'), BULK_STATUSES.map((s) => h('option', { value: s }, label(s))));
  const owner = h('select', { name: 'bulk-assignee', 'aria-label': 'New owner' },
    h('option', { value: '\u0000' }, 'Owner unchanged'), h('option', { value: '' }, 'Nobody'));
  const message = h('span', { class: 'bulk-message', role: 'status' });
  const apply = h('button', { type: 'button', class: 'primary', id: 'bulk-apply', onclick: async () => {
    const change = { ids: [...state.checked].map(Number) };
    if (status.value) change.status = status.value;
    if (owner.value !== '\u0000') change.assignee = owner.value;
    if (!change.status && change.assignee === undefined) { message.textContent = 'Choose a status or an owner.'; return; }
    apply.disabled = true;
    try {
      const result = await api.bulk(change);
      message.textContent = `Changed ${result.changed}` + (result.failed ? `, ${result.failed} refused (${result.results.find((r) => !r.ok).error})` : '');
      message.className = result.failed ? 'bulk-message error-text' : 'bulk-message ok';
      state.checked.clear();
      await renderIncidentList(context);
    } catch (e) {
      message.textContent = e.message;
      message.className = 'bulk-message error-text';
    } finally {
      apply.disabled = false;
    }
  } }, 'Apply');
  const bar = h('div', { class: 'bulk', hidden: true }, count, status, owner, apply,
    h('button', { type: 'button', class: 'secondary', onclick: () => { state.checked.clear(); syncChecks(state); } }, 'Clear selection'),
    message);
  state.fillOwners = (names) => owner.append(...names.map((n) => h('option', { value: n }, n)));
  state.bulkCount = count;
  return bar;
}

function syncChecks(state) {
  for (const box of state.table.querySelectorAll('input.pick')) box.checked = state.checked.has(box.value);
  const all = state.table.querySelector('input.pick-all');
  if (all) all.checked = state.items.length > 0 && state.items.every((i) => state.checked.has(String(i.id)));
  state.bulk.hidden = state.checked.size === 0;
  state.bulkCount.textContent = `${state.checked.size} selected`;
}

function mount(context) {
  const search = h('input', { id: 'search', name: 'q', type: 'search', placeholder: 'Search subject, sender, recipients  ( / )', 'aria-label': 'Search' });
  // Free text with suggestions: incidents may name policies that are no
  // longer configured, so the choices are the configured ones plus those seen.
  const policyOptions = h('datalist', { id: 'policy-options' });
  const policy = h('input', { name: 'policy_contains', list: 'policy-options', placeholder: 'Policy contains', 'aria-label': 'Policy contains' });
  const owner = select('assignee', 'Owner', [], h('option', { value: '-' }, 'Unassigned'));
  const controls = [
    search,
    select('severity', 'Severity', SEVERITIES),
    select('status', 'Status', STATUSES),
    select('action', 'Action', ACTIONS),
    owner,
    policy, policyOptions,
    h('input', { name: 'sender_contains', type: 'text', placeholder: 'Sender contains', 'aria-label': 'Sender contains' }),
    h('input', { name: 'recipient', type: 'text', placeholder: 'Recipient contains', 'aria-label': 'Recipient contains' }),
    h('input', { name: 'subject', type: 'text', placeholder: 'Subject contains', 'aria-label': 'Subject contains' }),
    h('label', { class: 'inline' }, 'From', h('input', { name: 'from', type: 'date' })),
    h('label', { class: 'inline' }, 'Until', h('input', { name: 'until', type: 'date' })),
  ];
  const reset = h('button', { type: 'button', class: 'secondary' }, 'Clear');
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() }, controls, reset);
  const summary = h('span', { class: 'summary muted' });
  const live = h('span', { class: 'live muted', title: 'The list updates when incidents change on any console' }, '● live');
  const exportLink = h('a', { class: 'button secondary', id: 'export-csv', download: 'incidents.csv' }, 'Export CSV');
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  const state = { form, table, pager, summary, exportLink, live, selected: 0, items: [], checked: new Set(), saved: [] };
  state.bulk = bulkBar(context, state);
  const root = h('section', { class: 'view list-view' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Incidents'), summary, live, h('span', { class: 'spacer' }), exportLink),
    form, savedFilters(context, state), state.bulk, table, pager);
  state.root = root;
  clear(context.main, root);

  let timer = null;
  const apply = (changed) => {
    const params = new URLSearchParams(currentParams());
    for (const el of form.elements) {
      if (!el.name) continue;
      // A date field cannot show a time to the hour (from a dashboard bar):
      // it stays until that field itself is changed.
      const time = el.type === 'date' && /T/.test(params.get(el.name) || '');
      if (el.value) params.set(el.name, el.value); else if (!time || changed === el) params.delete(el.name);
    }
    params.delete('page');
    context.navigate('/incidents', params);
  };
  form.addEventListener('change', (e) => apply(e.target));
  form.addEventListener('input', (e) => {
    if (e.target.tagName !== 'INPUT' || e.target.type === 'date') return;
    clearTimeout(timer);
    timer = setTimeout(() => apply(e.target), 300);
  });
  reset.addEventListener('click', () => context.navigate('/incidents'));

  Promise.all([api.policies(), api.stats({ days: 366 })]).then(([configured, stats]) => {
    const names = new Set([...configured.policies.map((p) => p.name), ...stats.top_policies.map((p) => p.policy)]);
    for (const name of [...names].sort()) policyOptions.append(h('option', { value: name }));
  }).catch(() => {});
  api.assignees().then(({ assignees }) => {
    owner.append(...assignees.map((n) => h('option', { value: n }, n)));
    owner.value = currentParams().get('assignee') || '';
    state.fillOwners(assignees);
  }).catch(() => {});
  follow(context, state);
  return state;
}

// Long-polls GET /changes while this view is mounted; a change anywhere
// redraws the current page. After an error it waits and starts over with a
// fresh token, which is the catch-up.
async function follow(context, state) {
  let token = null;
  while (context.main.contains(state.root)) {
    try {
      const r = await api.changes(token, 25);
      if (!context.main.contains(state.root)) return;
      if (token && r.changed && !state.busy) await renderIncidentList(context, { keep: true });
      token = r.token;
      state.live.classList.remove('off');
    } catch (e) {
      if (e.status === 401) return;
      state.live.classList.add('off');
      token = null;
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

function sortHeader(context, params, key, title, cls) {
  const active = (params.get('sort') || 'id') === key;
  const order = params.get('order') || 'desc';
  const next = new URLSearchParams(params);
  next.set('sort', key);
  next.set('order', active && order === 'desc' ? 'asc' : 'desc');
  next.delete('page');
  return h('th', { class: cls, 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
    h('a', { href: `#/incidents?${next}`, class: 'sort' }, title, active ? (order === 'asc' ? ' ▲' : ' ▼') : ''));
}

function row(state, incident, index) {
  const open = `#/incidents/${incident.id}`;
  const recipients = incident.recipients.join(', ');
  const policies = incident.policies.map((p) => p.name).join(', ');
  const pick = h('input', { type: 'checkbox', class: 'pick', value: String(incident.id), 'aria-label': `Select incident ${incident.id}`,
    onchange: (e) => {
      if (e.target.checked) state.checked.add(e.target.value); else state.checked.delete(e.target.value);
      syncChecks(state);
    } });
  return h('tr', { dataset: { index, id: incident.id }, class: 'row', onclick: (e) => {
    if (e.target.tagName !== 'A' && e.target.tagName !== 'INPUT' && !e.target.closest('td.col-pick')) location.hash = open;
  } },
  h('td', { class: 'col-pick' }, pick),
  h('td', { class: 'num col-id', 'data-label': 'ID' }, h('a', { href: open }, `#${incident.id}`)),
  h('td', { class: 'nowrap col-time', 'data-label': 'Time' }, h('time', { datetime: incident.time }, formatTime(incident.time))),
  h('td', { class: 'col-sev', 'data-label': 'Severity' }, badge('sev', incident.severity)),
  h('td', { class: 'col-status', 'data-label': 'Status' }, badge('status', incident.status)),
  h('td', { class: 'clip col-owner', 'data-label': 'Owner', title: incident.assignee }, incident.assignee || h('span', { class: 'muted' }, '—')),
  h('td', { class: 'col-action col-opt', 'data-label': 'Action' }, badge('action', incident.action)),
  h('td', { class: 'clip col-sender', 'data-label': 'Sender', title: incident.sender }, incident.sender),
  h('td', { class: 'clip col-rcpt col-opt', 'data-label': 'Recipients', title: recipients }, recipients),
  h('td', { class: 'clip subject col-subject', 'data-label': 'Subject', title: incident.subject }, incident.subject || h('span', { class: 'muted' }, '(no subject)')),
  h('td', { class: 'clip col-policies', 'data-label': 'Policies', title: policies }, policies),
  h('td', { class: 'num col-repeats col-opt', 'data-label': 'Repeats' }, incident.repeat_count ? `×${incident.repeat_count + 1}` : ''));
}

function highlight(state, scroll = true) {
  const rows = state.table.querySelectorAll('tr.row');
  rows.forEach((tr, i) => tr.classList.toggle('selected', i === state.selected));
  if (scroll) rows[state.selected]?.scrollIntoView({ block: 'nearest' });
}

export async function renderIncidentList(context, { keep = false } = {}) {
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
  state.exportLink.href = `/api/v1/incidents.csv?${filterQuery(params)}`;
  if (!keep) state.table.classList.add('loading');
  state.busy = true;
  let result;
  try {
    result = await api.incidents(query);
  } catch (e) {
    state.table.classList.remove('loading');
    clear(state.table, errorBox(e));
    clear(state.pager);
    throw e.status === 401 ? e : Object.assign(e, { shown: true });
  } finally {
    state.busy = false;
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
    const all = h('input', { type: 'checkbox', class: 'pick-all', 'aria-label': 'Select every incident on this page',
      onchange: (e) => {
        for (const i of state.items) {
          if (e.target.checked) state.checked.add(String(i.id)); else state.checked.delete(String(i.id));
        }
        syncChecks(state);
      } });
    clear(state.table, h('table', { class: 'incidents' },
      h('thead', {}, h('tr', {},
        h('th', { class: 'col-pick' }, all),
        sortHeader(context, params, 'id', SORTABLE.id, 'col-id'), sortHeader(context, params, 'time', SORTABLE.time, 'col-time'),
        sortHeader(context, params, 'severity', SORTABLE.severity, 'col-sev'), h('th', { class: 'col-status' }, 'Status'),
        h('th', { class: 'col-owner' }, 'Owner'), h('th', { class: 'col-action col-opt' }, 'Action'),
        h('th', { class: 'col-sender' }, 'Sender'), h('th', { class: 'col-rcpt col-opt' }, 'Recipients'),
        h('th', { class: 'col-subject' }, 'Subject'), h('th', { class: 'col-policies' }, 'Policies'),
        sortHeader(context, params, 'repeat_count', SORTABLE.repeat_count, 'col-repeats col-opt'))),
      h('tbody', {}, result.items.map((incident, index) => row(state, incident, index)))));
    highlight(state, !keep);
  }
  syncChecks(state);
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
    if (event.key === 'x') {
      const incident = state.items[state.selected];
      if (!incident) return false;
      const id = String(incident.id);
      if (state.checked.has(id)) state.checked.delete(id); else state.checked.add(id);
      syncChecks(state);
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
