// The signed-in session: a JWT and its permissions in this tab's sessionStorage (never the API key).

import { api } from './api.js';

const STORAGE_KEY = 'ultimate-agent.session';
const PERMISSIONS = ['read', 'write', 'admin'];

export function current() {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw);
    if (session.token && Date.now() < session.expiresAt) return session;
  } catch (err) {
    console.error('Unreadable stored session', err);
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return null;
}

export function token() {
  const session = current();
  return session ? session.token : null;
}

export function can(permission) {
  const held = (current()?.permissions || []).map((p) => PERMISSIONS.indexOf(p));
  return Math.max(-1, ...held) >= PERMISSIONS.indexOf(permission);
}

export async function signIn(apiKey) {
  const reply = await api('/api/auth/token', { method: 'POST', body: { agent_id: 'dashboard' }, auth: apiKey });
  // Renew a little early so no request goes out with a token that expires on the way.
  const session = { token: reply.token, permissions: reply.permissions, expiresAt: Date.now() + (reply.expires_in - 10) * 1000 };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
}

// Called when the agent refuses the token (expired or revoked key): back to the sign-in form.
export function expire() {
  if (sessionStorage.getItem(STORAGE_KEY) === null) return;
  signOut();
  window.dispatchEvent(new CustomEvent('session-expired'));
}
