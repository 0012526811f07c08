// The console's REST client: JSON in and out, the session's CSRF token on
// every write, and one place that notices an expired session.
let csrfToken = null;
let onUnauthorized = () => {};
// The signed-in user's {user, role}; views show admin-only controls by it
// (the server enforces the role either way).
export const who = { user: null, role: null };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export function setCsrfToken(token) {
  csrfToken = token;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    if (response.status === 401 && path !== '/login') onUnauthorized();
    throw new ApiError(response.status, message);
  }
  return data;
}

export const api = {
  session: () => request('GET', '/session'),
  login: (username, password) => request('POST', '/login', { username, password }),
  logout: () => request('POST', '/logout'),
  incidents: (params) => request('GET', `/incidents?${new URLSearchParams(params)}`),
  incident: (id) => request('GET', `/incidents/${encodeURIComponent(id)}`),
  updateIncident: (id, change) => request('PATCH', `/incidents/${encodeURIComponent(id)}`, change),
  policies: () => request('GET', '/policies'),
  stats: (params) => request('GET', `/stats?${new URLSearchParams(params)}`),
  reload: () => request('POST', '/reload'),
  bulk: (change) => request('POST', '/incidents/bulk', change),
  assignees: () => request('GET', '/assignees'),
  changes: (since, wait) => request('GET', `/changes?${new URLSearchParams(since ? { since, wait } : {})}`),
  filters: () => request('GET', '/filters'),
  saveFilter: (name, query) => request('PUT', `/filters/${encodeURIComponent(name)}`, { query }),
  deleteFilter: (name) => request('DELETE', `/filters/${encodeURIComponent(name)}`),
  queue: () => request('GET', '/queue'),
  queueAction: (id, action) => request('POST', `/queue/${encodeURIComponent(id)}/${action}`),
  queueDelete: (id) => request('DELETE', `/queue/${encodeURIComponent(id)}`),
  queueFlush: () => request('POST', '/queue/flush'),
  server: () => request('GET', '/server'),
  users: () => request('GET', '/users'),
  createUser: (user) => request('POST', '/users', user),
  updateUser: (name, change) => request('PATCH', `/users/${encodeURIComponent(name)}`, change),
  deleteUser: (name) => request('DELETE', `/users/${encodeURIComponent(name)}`),
};
