// The console's entry point: session bootstrap, the login page, hash
// routing between views, and the global keyboard shortcuts.
import { api, setCsrfToken, setUnauthorizedHandler, who } from './api.js';
import { renderUsers } from './users.js';
import { clear, errorBox, h } from './dom.js';
import { renderIncidentList } from './incidents.js';
import { renderIncidentDetail } from './detail.js';
import { renderDashboard } from './dashboard.js';
import { renderPolicies } from './policies.js';
import { renderQueue, renderServer } from './operations.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let session = null;
// The current view may hand keys to itself (j/k in the list) before the globals.
let viewKeys = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/incidents';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

export function navigate(path, params) {
  const query = params ? new URLSearchParams(params).toString() : '';
  location.hash = `#${path}${query ? `?${query}` : ''}`;
}

function showLogin(message) {
  session = null;
  setCsrfToken(null);
  topbar.hidden = true;
  viewKeys = null;
  const error = h('div', { class: 'error', role: 'alert', hidden: !message }, message || '');
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'login-card', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const created = await api.login(user.value, password.value);
      startSession(created);
      route();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  } },
  h('div', { class: 'login-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }),
    h('div', {}, h('h1', {}, 'cordon'), h('p', { class: 'muted' }, 'Data loss prevention console'))),
  error,
  h('label', {}, 'User name', user),
  h('label', {}, 'Password', password),
  submit);
  clear(main, h('div', { class: 'login-page' }, form));
  user.focus();
}

function startSession(created) {
  session = created;
  setCsrfToken(created.csrf_token);
  topbar.hidden = false;
  who.user = created.user;
  who.role = created.role;
  document.getElementById('user-name').textContent = created.user;
  document.getElementById('user-name').title = `Role: ${created.role}`;
  document.querySelector('[data-nav=users]').hidden = created.role !== 'admin';
}

async function route() {
  if (!session) return;
  const { parts, params } = parseHash();
  const [view, id] = parts;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === view);
  }
  viewKeys = null;
  const context = { main, params, navigate, setKeys: (handler) => { viewKeys = handler; } };
  try {
    if (view === 'incidents' && id) await renderIncidentDetail(context, id);
    else if (view === 'dashboard') await renderDashboard(context);
    else if (view === 'policies') await renderPolicies(context);
    else if (view === 'users') await renderUsers(context);
    else if (view === 'queue') await renderQueue(context);
    else if (view === 'server') await renderServer(context);
    else await renderIncidentList(context);
  } catch (e) {
    if (e.status !== 401 && !e.shown) clear(main, errorBox(e));
  }
}

let pendingG = false;
function onKey(event) {
  if (!session || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement;
  if (typing) {
    if (event.key === 'Escape') target.blur();
    return;
  }
  if (document.getElementById('help').open) return;
  if (pendingG) {
    pendingG = false;
    const to = { i: '/incidents', d: '/dashboard', p: '/policies' }[event.key];
    if (to) { event.preventDefault(); navigate(to); }
    return;
  }
  if (viewKeys && viewKeys(event)) { event.preventDefault(); return; }
  if (event.key === 'g') { pendingG = true; setTimeout(() => { pendingG = false; }, 1500); }
  else if (event.key === '?') { event.preventDefault(); document.getElementById('help').showModal(); }
  else if (event.key === '/') {
    event.preventDefault();
    const search = document.getElementById('search');
    if (search) { search.focus(); return; }
    navigate('/incidents');
    // The list mounts asynchronously; focus its search box once it is there.
    const started = Date.now();
    const tryFocus = () => {
      const box = document.getElementById('search');
      if (box) box.focus();
      else if (Date.now() - started < 3000) setTimeout(tryFocus, 30);
    };
    tryFocus();
  }
}

async function boot() {
  setUnauthorizedHandler(() => showLogin('Your session has ended. Please sign in again.'));
  document.getElementById('logout-button').addEventListener('click', async () => {
    try { await api.logout(); } catch { /* the session is gone either way */ }
    showLogin();
  });
  document.getElementById('help-button').addEventListener('click', () => document.getElementById('help').showModal());
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', route);
  try {
    startSession(await api.session());
    route();
  } catch {
    showLogin();
  }
}

boot();
