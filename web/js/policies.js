// The policies and L7 filters in force (read-only) and the Reload button,
// which asks the server to re-read its configuration file.
import { api, who } from './api.js';
import { badge, clear, h, label } from './dom.js';

function responseText(response) {
  if (response.block !== undefined) return ['Block', response.block];
  if (response.redirect !== undefined) return ['Redirect', response.redirect];
  const m = response.modify;
  const parts = [];
  if (m.subject_prefix) parts.push(`subject prefix "${m.subject_prefix}"`);
  for (const header of m.add_headers) parts.push(`add header ${header}`);
  return ['Modify', parts.join('; ')];
}

function filterRow(role, filter) {
  const show = (text) => (text ? h('code', {}, text) : h('span', { class: 'muted' }, 'empty: inspect every address'));
  return h('tr', {}, h('th', {}, role), h('td', {}, show(filter.sender)), h('td', {}, show(filter.recipient)));
}

function policyCard(p) {
  const except = [...p.except.senders.map((s) => `sender ${s}`), ...p.except.recipients.map((r) => `all recipients ${r}`)];
  return h('article', { class: 'card policy' },
    h('header', {}, h('h2', {}, p.name), badge('sev', p.severity)),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Looks at'), h('dd', {}, p.components.join(', ')),
      h('dt', {}, `Matches (${p.match})`), h('dd', {}, h('ul', { class: 'plain' }, p.rules.map((r) => h('li', {}, h('code', {}, r.rule), r.min_count > 1 ? ` at least ${r.min_count}` : '')))),
      p.severity_tiers.length ? [h('dt', {}, 'Escalates'), h('dd', {}, p.severity_tiers.map((t) => `${label(t.severity)} from ${t.min_count} matches`).join(', '))] : null,
      except.length ? [h('dt', {}, 'Except'), h('dd', {}, except.join('; '))] : null,
      h('dt', {}, 'Responds'), h('dd', {}, p.responses.length === 0 ? h('span', { class: 'muted' }, 'record an incident only')
        : h('ul', { class: 'plain' }, p.responses.map((r) => { const [kind, text] = responseText(r); return h('li', {}, h('strong', {}, kind), ' ', text); })))));
}

export async function renderPolicies(context) {
  const data = await api.policies();
  const status = h('span', { class: 'reload-status', role: 'status' });
  const reload = h('button', { type: 'button', class: 'primary', id: 'reload-button', hidden: who.role !== 'admin', onclick: async () => {
    reload.disabled = true;
    status.className = 'reload-status muted';
    status.textContent = 'Reloading…';
    try {
      const result = await api.reload();
      await renderPolicies(context);
      const fresh = document.querySelector('.reload-status');
      fresh.className = 'reload-status ok';
      fresh.textContent = `Reloaded: ${result.policies} policies in force.`;
    } catch (e) {
      status.className = 'reload-status error-text';
      status.textContent = `Reload refused: ${e.message}`;
      reload.disabled = false;
    }
  } }, 'Reload configuration');
  // Without a configuration file there is nothing to re-read: say so on the
  // button instead of letting an admin press it to be refused.
  const canReload = !data.reload || data.reload.available;
  if (!canReload) {
    reload.disabled = true;
    reload.title = data.reload.reason;
    reload.setAttribute('aria-describedby', 'reload-reason');
    status.id = 'reload-reason';
    status.className = 'reload-status muted';
    status.textContent = `Reload unavailable: ${data.reload.reason}; restart with --config FILE to change the configuration.`;
    status.hidden = who.role !== 'admin';
  }
  const filters = Object.entries(data.filters);
  clear(context.main, h('section', { class: 'view policies-view' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Policies in force'), h('span', { class: 'spacer' }), status, reload),
    h('p', { class: 'muted' }, 'From ', h('code', {}, data.source), ` · roles: ${data.roles.join(', ')}. Read-only: edit the configuration file, then reload.`),
    h('section', { class: 'card' }, h('h2', {}, 'L7 sender and recipient filters'),
      filters.length === 0 ? h('p', { class: 'muted' }, 'No prevent or monitor role runs here.')
        : h('table', { class: 'filters-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Role'), h('th', {}, 'Sender filter'), h('th', {}, 'Recipient filter'))),
          h('tbody', {}, filters.map(([role, f]) => filterRow(role, f))))),
    data.policies.length === 0 ? h('div', { class: 'empty' }, h('h2', {}, 'No policies'), h('p', { class: 'muted' }, 'Messages pass uninspected until a policy is configured.'))
      : h('div', { class: 'policy-grid' }, data.policies.map(policyCard))));
}
