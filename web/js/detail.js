// One incident: envelope, subject, every fired policy with its masked
// matches, and the status workflow with its owner, comments and history
// (each entry naming who made it).
import { api } from './api.js';
import { badge, clear, errorBox, formatTime, h, label } from './dom.js';
import { lastListHash } from './incidents.js';

// Mirrors the server's workflow (it has the last word and answers 409).
const NEXT = {
  new: ['in_progress', 'resolved', 'false_positive'],
  in_progress: ['resolved', 'false_positive'],
  resolved: ['in_progress'],
  false_positive: ['in_progress'],
};
const VERB = { in_progress: 'Start work', resolved: 'Resolve', false_positive: 'False positive' };

function field(name, ...value) {
  return [h('dt', {}, name), h('dd', {}, ...value)];
}

// Where a match sits in the subject, for incidents stored without contexts: a few
// words either side, with the value shown as its masked sample. Each * of
// a sample stands for one character of the value; separators between the
// characters of the value (spaces, dots, dashes) are allowed.
function contextOf(text, sample) {
  if (!text || !sample) return null;
  const chars = [...sample].map((c) => (c === '*' ? '[^\\s]' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  let re;
  try { re = new RegExp(chars.join('[\\s.-]?'), 'iu'); } catch { return null; }
  const m = re.exec(text);
  if (!m) return null;
  const words = 4;
  const before = text.slice(0, m.index).split(/(\s+)/);
  const after = text.slice(m.index + m[0].length).split(/(\s+)/);
  const head = before.slice(-words * 2).join('');
  const tail = after.slice(0, words * 2).join('');
  return h('span', { class: 'context' },
    before.length > words * 2 ? '… ' : '', head, h('mark', { class: 'sample' }, sample), tail,
    after.length > words * 2 ? ' …' : '');
}

// A context stored with the incident (body and attachment matches): the
// snippet as cordon cut it, already masked; its sample is highlighted.
function storedContext(snippet, sample) {
  const at = sample ? snippet.indexOf(sample) : -1;
  if (at < 0) return h('span', { class: 'context' }, snippet);
  return h('span', { class: 'context' }, snippet.slice(0, at), h('mark', { class: 'sample' }, sample),
    snippet.slice(at + sample.length));
}

function contexts(match, incident) {
  if (match.contexts && match.contexts.length) {
    return h('div', { class: 'contexts' }, match.contexts.map((c, i) => h('div', {}, storedContext(c, match.samples[i]))));
  }
  if (match.component !== 'subject') return null;
  const found = match.samples.map((s) => contextOf(incident.subject, s)).filter(Boolean);
  return found.length ? h('div', { class: 'contexts' }, found.map((c) => h('div', {}, c))) : null;
}

function policyCard(policy, incident) {
  return h('article', { class: 'policy-hit' },
    h('header', {}, h('h3', {}, policy.name), badge('sev', policy.severity)),
    h('table', { class: 'matches' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Rule'), h('th', {}, 'Component'), h('th', { class: 'num' }, 'Count'), h('th', {}, 'Matches (masked)'))),
      h('tbody', {}, policy.matches.map((m) => h('tr', {},
        h('td', {}, m.rule),
        h('td', {}, h('code', {}, m.component)),
        h('td', { class: 'num' }, m.count),
        h('td', {}, m.samples.length ? m.samples.map((s) => h('mark', { class: 'sample' }, s)) : h('span', { class: 'muted' }, '—'),
          contexts(m, incident)))))));
}

// The message's headers and the start of its text, findings masked: sent to
// admins only (content_hidden for everyone else), collapsed until asked for.
function contentPreview(content) {
  if (!content.headers && !content.preview) return null;
  return h('details', { class: 'card content-preview' },
    h('summary', {}, 'Headers and text preview (masked)'),
    content.headers ? h('pre', { class: 'headers' }, content.headers) : null,
    content.preview ? h('pre', { class: 'preview' }, content.preview) : null);
}

function workflow(incident, rerender) {
  const comment = h('textarea', { name: 'comment', rows: 3, maxlength: 4000, placeholder: 'Comment (optional with a status change)', 'aria-label': 'Comment' });
  const error = h('div', { class: 'error', role: 'alert', hidden: true });
  const owner = h('select', { name: 'assignee', 'aria-label': 'Owner' }, h('option', { value: '' }, 'Nobody'));
  api.assignees().then(({ assignees }) => {
    const names = new Set(assignees);
    if (incident.assignee) names.add(incident.assignee);
    owner.append(...[...names].map((n) => h('option', { value: n }, n)));
    owner.value = incident.assignee;
  }).catch(() => {});
  const submit = async (status, assignee) => {
    error.hidden = true;
    const change = {};
    if (status) change.status = status;
    if (assignee !== undefined) change.assignee = assignee;
    if (comment.value.trim()) change.comment = comment.value.trim();
    if (!status && assignee === undefined && !change.comment) {
      error.textContent = 'Write a comment first.';
      error.hidden = false;
      return;
    }
    try {
      rerender(await api.updateIncident(incident.id, change));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  };
  return h('section', { class: 'card workflow' },
    h('h2', {}, 'Workflow'),
    h('p', {}, 'Status: ', badge('status', incident.status)),
    h('div', { class: 'owner' }, h('label', { class: 'inline' }, 'Owner', owner),
      h('button', { type: 'button', class: 'secondary', id: 'assign-button', onclick: () => submit(null, owner.value) }, 'Assign')),
    comment, error,
    h('div', { class: 'buttons' },
      NEXT[incident.status].map((s) => h('button', { type: 'button', class: s === 'resolved' ? 'primary' : 'secondary', dataset: { status: s }, onclick: () => submit(s) }, VERB[s] || label(s))),
      h('button', { type: 'button', class: 'secondary', onclick: () => submit(null) }, 'Add comment')),
    h('h3', {}, 'History'),
    incident.history.length === 0
      ? h('p', { class: 'muted' }, 'No changes yet.')
      : h('ol', { class: 'history' }, incident.history.slice().reverse().map((c) => h('li', {},
        h('div', {}, badge('status', c.status), ' ', h('time', { datetime: c.time }, formatTime(c.time)),
          ' ', h('span', { class: 'by' }, c.user ? `by ${c.user}` : 'by cordon')),
        c.assignee !== undefined ? h('p', { class: 'assigned' }, c.assignee ? `Assigned to ${c.assignee}` : 'Unassigned') : null,
        c.comment ? h('p', {}, c.comment) : null))));
}

export async function renderIncidentDetail(context, id) {
  let incident;
  try {
    incident = await api.incident(id);
  } catch (e) {
    if (e.status === 401) throw e;
    clear(context.main, h('section', { class: 'view' }, h('a', { href: lastListHash, class: 'back' }, '← Incidents'), errorBox(e)));
    return;
  }
  // A workflow change answers without the preview: keep the one first sent.
  const content = { headers: incident.headers, preview: incident.preview };
  const draw = (current) => {
    clear(context.main, h('section', { class: 'view detail-view' },
      h('a', { href: lastListHash, class: 'back' }, '← Incidents'),
      h('div', { class: 'view-head' },
        h('h1', {}, `Incident #${current.id}`), badge('sev', current.severity), badge('action', current.action), badge('status', current.status)),
      h('p', { class: 'subject-line' }, current.subject || h('span', { class: 'muted' }, '(no subject)')),
      h('div', { class: 'detail-grid' },
        h('div', {},
          h('section', { class: 'card' }, h('h2', {}, 'Message'),
            h('dl', { class: 'fields' },
              field('From', current.sender || '<>'),
              field('To', h('ul', { class: 'plain' }, current.recipients.map((r) => h('li', {}, r)))),
              field('Message-ID', h('code', {}, current.message_id || '—')),
              field('First seen', formatTime(current.time)),
              field('Last seen', formatTime(current.last_seen)),
              field('Seen', current.repeat_count ? `${current.repeat_count + 1} times (re-sent ${current.repeat_count}×)` : 'once'),
              field('Action', badge('action', current.action)),
              field('Owner', current.assignee || h('span', { class: 'muted' }, 'nobody')))),
          h('section', { class: 'card' }, h('h2', {}, `Policies fired (${current.policies.length})`),
            current.policies.map((p) => policyCard(p, current))),
          contentPreview(content)),
        workflow(current, draw))));
  };
  draw(incident);
  context.setKeys((event) => {
    if (event.key === 'Escape' || event.key === 'u') { location.hash = lastListHash; return true; }
    return false;
  });
}
