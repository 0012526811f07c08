// Building DOM nodes without innerHTML: every piece of incident data goes in
// as text, so a subject or address can never become markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const SEVERITIES = ['high', 'medium', 'low', 'info'];
export const STATUSES = ['new', 'in_progress', 'resolved', 'false_positive'];
export const ACTIONS = ['block', 'hold', 'redirect', 'modify', 'pass', 'monitored'];

export function label(value) {
  return String(value).replace(/_/g, ' ');
}

export function badge(kind, value) {
  return h('span', { class: `badge ${kind}-${value}` }, label(value));
}

export function formatTime(rfc3339) {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  // With the zone: an analyst comparing with a mail log must know which.
  return date.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit',
    timeZoneName: 'short',
  });
}

export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert' }, error.message || String(error));
}
