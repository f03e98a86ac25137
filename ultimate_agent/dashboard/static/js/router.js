// Hash routes (#/tasks, #/tasks/<id>, ...): one view visible at a time, the nav link marked current.

import { $, reportError } from './dom.js';

const views = new Map();
let active = null;

export function register(name, view) {
  views.set(name, view);
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'tasks' && parts[1]) return { name: 'task', params: { id: parts[1] }, nav: 'tasks' };
  const name = views.has(parts[0]) ? parts[0] : 'overview';
  return { name, params: {}, nav: name };
}

export function route() {
  const { name, params, nav } = parse(window.location.hash);
  for (const [viewName, view] of views) {
    const section = $(`view-${viewName}`);
    section.hidden = viewName !== name;
    if (viewName !== name && active === viewName && view.hide) view.hide();
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.route === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  active = name;
  const view = views.get(name);
  if (view && view.show) {
    Promise.resolve(view.show(params)).catch((err) => reportError(`Loading ${name}`, err));
  }
}

export function start() {
  window.addEventListener('hashchange', route);
  route();
}

export function isActive(name) {
  return active === name;
}
