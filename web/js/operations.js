// The operations views: the gateway's queue (every analyst sees it; hold,
// release, delete and flush are shown to admins, and the server refuses
// them to anyone else) and the server's health (roles, listeners, DLP
// hosts with their circuit breakers, messages delivered around DLP).
import { api, who } from './api.js';
import { clear, errorBox, formatTime, h } from './dom.js';

function view(cls, title, ...content) {
  return h('section', { class: `view ${cls}` }, h('div', { class: 'view-head' }, h('h1', {}, title), h('span', { class: 'spacer' })), ...content);
}

export async function renderQueue(context, message = '') {
  let queue;
  try {
    queue = await api.queue();
  } catch (e) {
    if (e.status === 401) throw e;
    clear(context.main, view('queue-view', 'Queue', errorBox(e)));
    return;
  }
  const admin = who.role === 'admin';
  const status = h('div', { role: 'status', class: 'queue-message' }, message);
  const act = async (text, action) => {
    try {
      await action();
      await renderQueue(context, text);
    } catch (e) {
      if (e.status === 401) throw e;
      status.textContent = e.message;
      status.className = 'queue-message error-text';
    }
  };
  const actions = (m) => {
    if (!admin) return null;
    const buttons = [];
    if (m.state === 'hold') buttons.push(h('button', { type: 'button', class: 'secondary', 'data-action': 'release', onclick: () => act(`${m.id}: released`, () => api.queueAction(m.id, 'release')) }, 'Release'));
    else if (m.state !== 'corrupt') buttons.push(h('button', { type: 'button', class: 'secondary', 'data-action': 'hold', onclick: () => act(`${m.id}: placed on hold`, () => api.queueAction(m.id, 'hold')) }, 'Hold'));
    buttons.push(h('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => {
      if (window.confirm(`Delete queued message ${m.id}? It will not be delivered.`)) act(`${m.id}: deleted`, () => api.queueDelete(m.id));
    } }, 'Delete'));
    return buttons;
  };
  const all = [...queue.messages, ...queue.quarantined];
  const table = all.length === 0
    ? h('div', { class: 'empty' }, h('h2', {}, 'The queue is empty'),
      h('p', { class: 'muted' }, queue.gateway ? 'Every message the gateway received has been passed on.' : 'No gateway role runs with this data directory.'))
    : h('div', { class: 'table-wrap' }, h('table', { class: 'queue' },
      h('thead', {}, h('tr', {}, ['ID', 'State', 'From', 'To', 'Size', 'Arrived', 'Attempts', 'Next attempt', 'Last event', admin ? 'Actions' : null]
        .filter(Boolean).map((t) => h('th', {}, t)))),
      h('tbody', {}, all.map((m) => h('tr', { dataset: { id: m.id, state: m.state } },
        h('td', { class: 'mono' }, m.id),
        h('td', {}, h('span', { class: `badge queue-${m.state}` }, m.state), m.quarantine ? h('div', { class: 'muted' }, m.quarantine.reason) : null),
        h('td', { class: 'addr' }, m.sender ? `<${m.sender}>` : '<>'),
        h('td', { class: 'addr' }, m.recipients.map((r) => h('div', {}, r.address, h('span', { class: 'muted' }, ` ${r.state}`)))),
        h('td', { class: 'num' }, Number(m.size).toLocaleString()),
        h('td', {}, formatTime(m.arrival)),
        h('td', { class: 'num' }, m.attempts),
        h('td', {}, m.state === 'deferred' ? formatTime(m.next_attempt) : '—'),
        h('td', {}, m.last ? `${m.last.event}${m.last.detail ? `: ${m.last.detail}` : ''}` : ''),
        admin ? h('td', { class: 'actions' }, actions(m)) : null)))));
  const flush = admin ? h('button', { type: 'button', class: 'secondary', id: 'flush-button', onclick: () => act('', async () => {
    const r = await api.queueFlush();
    status.textContent = `${r.flushed} deferred message${r.flushed === 1 ? '' : 's'} retried now`;
  }) }, 'Retry deferred now') : null;
  const counts = ['incoming', 'active', 'deferred', 'hold', 'corrupt'].map((s) => `${all.filter((m) => m.state === s).length} ${s}`).join(' · ');
  const root = view('queue-view', 'Queue', h('p', { class: 'muted queue-counts' }, counts), status, table);
  if (flush) root.querySelector('.view-head').append(flush);
  clear(context.main, root);
}

function row(...cells) {
  return h('tr', {}, cells.map((c) => h('td', {}, c)));
}

export async function renderServer(context) {
  let s;
  try {
    s = await api.server();
  } catch (e) {
    if (e.status === 401) throw e;
    clear(context.main, view('server-view', 'Server', errorBox(e)));
    return;
  }
  const breaker = (state) => h('span', { class: `badge breaker-${state}` }, state);
  const reasons = Object.entries(s.bypassed.by_reason);
  clear(context.main, view('server-view', 'Server',
    h('div', { class: 'tiles' },
      h('div', { class: 'tile' }, h('span', { class: 'tile-value' }, s.roles.length), h('span', { class: 'tile-title' }, 'Roles running'), h('span', { class: 'tile-hint muted roles' }, s.roles.join(', '))),
      h('div', { class: 'tile' }, h('span', { class: 'tile-value' }, s.dlp_hosts.filter((d) => d.breaker !== 'closed').length), h('span', { class: 'tile-title' }, 'DLP hosts not closed'), h('span', { class: 'tile-hint muted' }, `of ${s.dlp_hosts.length}`)),
      h('div', { class: 'tile' }, h('span', { class: 'tile-value bypassed-total' }, Number(s.bypassed.total).toLocaleString()), h('span', { class: 'tile-title' }, 'Bypassed DLP'), h('span', { class: 'tile-hint muted' }, s.dlp_bypass ? 'delivered uninspected when DLP is down' : 'bypass off: kept queued'))),
    h('div', { class: 'chart-grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Listeners'),
        h('table', { class: 'listeners' }, h('thead', {}, h('tr', {}, ['Role', 'Listener', 'Address', 'Received'].map((t) => h('th', {}, t)))),
          h('tbody', {}, s.listeners.map((l) => row(l.role, l.name, h('span', { class: 'mono' }, l.address), l.received === undefined ? '—' : Number(l.received).toLocaleString()))))),
      h('section', { class: 'card' }, h('h2', {}, 'DLP hosts'),
        s.dlp_hosts.length === 0 ? h('p', { class: 'muted' }, 'No DLP host is configured.')
          : h('table', { class: 'dlp-hosts' }, h('thead', {}, h('tr', {}, ['Host', 'Circuit breaker'].map((t) => h('th', {}, t)))),
            h('tbody', {}, s.dlp_hosts.map((d) => h('tr', { dataset: { host: d.host } }, h('td', { class: 'mono' }, d.host), h('td', {}, breaker(d.breaker))))))),
      h('section', { class: 'card' }, h('h2', {}, 'Bypassed DLP by reason'),
        reasons.length === 0 ? h('p', { class: 'muted' }, 'No message has been delivered around DLP since this cordon started.')
          : h('table', { class: 'bypass' }, h('tbody', {}, reasons.map(([r, n]) => row(r, Number(n).toLocaleString())))),
        h('p', { class: 'muted' }, `${Number(s.fail_closed).toLocaleString()} kept queued instead (bypass off)`)))));
}
