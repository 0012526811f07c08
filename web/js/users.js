// Console users, for admins: who may sign in with which role, a new user,
// a role change, a new password, removal. The API refuses all of it to
// analysts; the navigation hides it from them.
import { api, who } from './api.js';
import { clear, errorBox, h } from './dom.js';

const ROLES = ['analyst', 'admin'];

function roleSelect(value, attrs = {}) {
  const s = h('select', attrs, ROLES.map((r) => h('option', { value: r }, r)));
  s.value = value;
  return s;
}

export async function renderUsers(context) {
  if (who.role !== 'admin') {
    clear(context.main, h('section', { class: 'view' }, h('h1', {}, 'Users'),
      errorBox(new Error('Managing users needs the admin role.'))));
    return;
  }
  let users;
  try {
    users = (await api.users()).users;
  } catch (e) {
    if (e.status === 401) throw e;
    clear(context.main, h('section', { class: 'view' }, h('h1', {}, 'Users'), errorBox(e)));
    return;
  }
  const message = h('div', { role: 'status', class: 'user-message' });
  const done = (text, ok = true) => { message.textContent = text; message.className = ok ? 'user-message ok' : 'user-message error-text'; };
  const rerender = async (text) => { await renderUsers(context); document.querySelector('.user-message').textContent = text; };
  const rows = users.map((u) => {
    const role = roleSelect(u.role, { 'aria-label': `Role of ${u.name}`, disabled: u.name === who.user });
    const password = h('input', { type: 'password', autocomplete: 'new-password', placeholder: 'New password', 'aria-label': `New password for ${u.name}` });
    return h('tr', { dataset: { user: u.name } },
      h('td', {}, u.name, u.name === who.user ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', {}, role),
      h('td', {}, password),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: async () => {
          const change = {};
          if (role.value !== u.role) change.role = role.value;
          if (password.value) change.password = password.value;
          if (!Object.keys(change).length) return done('Nothing to save.', false);
          try { await api.updateUser(u.name, change); await rerender(`Saved ${u.name}.`); } catch (e) { done(e.message, false); }
        } }, 'Save'),
        u.name === who.user ? null : h('button', { type: 'button', class: 'secondary danger', onclick: async () => {
          try { await api.deleteUser(u.name); await rerender(`Deleted ${u.name}.`); } catch (e) { done(e.message, false); }
        } }, 'Delete')));
  });
  const name = h('input', { name: 'new-name', required: true, maxlength: 64, placeholder: 'Name', 'aria-label': 'Name' });
  const password = h('input', { name: 'new-password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password', placeholder: 'Password (12+)', 'aria-label': 'Password' });
  const role = roleSelect('analyst', { name: 'new-role', 'aria-label': 'Role' });
  const form = h('form', { class: 'new-user', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api.createUser({ name: name.value, password: password.value, role: role.value });
      await rerender(`Created ${name.value}.`);
    } catch (err) { done(err.message, false); }
  } }, name, password, role, h('button', { type: 'submit', class: 'primary' }, 'Add user'));
  clear(context.main, h('section', { class: 'view users-view' },
    h('div', { class: 'view-head' }, h('h1', {}, 'Users')),
    h('p', { class: 'muted' }, 'Analysts triage incidents; admins also reload the configuration and manage users. Users are shared by every console on this incident store.'),
    message,
    h('div', { class: 'table-wrap' }, h('table', { class: 'users' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Password'), h('th', {}, ''))),
      h('tbody', {}, rows))),
    h('section', { class: 'card add-user' }, h('h2', {}, 'Add a user'), form)));
}
