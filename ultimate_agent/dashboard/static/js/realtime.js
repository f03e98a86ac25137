// The Socket.IO connection: authenticates with the JWT and fans events out to the views.

import { io } from '../vendor/socket.io.esm.min.js';
import { $, notify, reportError } from './dom.js';
import { expire } from './session.js';

export const EVENTS = ['connected', 'stats_update', 'real_time_data', 'system_alert', 'task_progress', 'task_completed',
  'reward_claimed', 'task_assignment', 'remote_command_response', 'subscribed', 'error'];

const handlers = new Map();
let socket = null;
let lastProblem = '';

export function on(event, handler) {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event).add(handler);
}

function dispatch(event, data) {
  for (const handler of handlers.get(event) || []) {
    try {
      handler(data);
    } catch (err) {
      reportError(`Updating the page for ${event}`, err);
    }
  }
}

function setState(text, kind) {
  const badge = $('connection');
  badge.textContent = text;
  badge.className = `pill ${kind}`;
}

export function connect(jwt) {
  disconnect();
  socket = io({ auth: { token: jwt }, reconnectionDelayMax: 10000 });
  socket.on('connect', () => {
    lastProblem = '';
    setState('live', 'live');
    dispatch('connect', {});
  });
  socket.on('disconnect', (reason) => {
    setState(`disconnected (${reason})`, 'offline');
  });
  socket.on('connect_error', (err) => {
    const message = err && err.message ? err.message : String(err);
    setState('offline', 'offline');
    if (message.startsWith('unauthorized')) {
      expire();
      return;
    }
    // One notice per distinct problem, not one per reconnection attempt.
    if (message !== lastProblem) {
      lastProblem = message;
      notify(`Live connection failed: ${message}; retrying`);
    }
  });
  for (const event of EVENTS) socket.on(event, (data) => dispatch(event, data));
}

export function emit(event, data) {
  if (!socket || !socket.connected) return false;
  socket.emit(event, data);
  return true;
}

export function disconnect() {
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
  }
  setState('not connected', '');
}
