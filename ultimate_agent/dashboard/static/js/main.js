// Entry point: sign-in, then every view is initialised and fed by the API and the live connection.

import { $, describeError, reportError } from './dom.js';
import * as realtime from './realtime.js';
import * as router from './router.js';
import { can, current, signIn, signOut } from './session.js';
import * as overview from './views/overview.js';
import * as monitoring from './views/monitoring.js';
import * as tasks from './views/tasks.js';
import * as taskDetail from './views/task_detail.js';
import * as ai from './views/ai.js';
import * as wallet from './views/wallet.js';
import * as admin from './views/admin.js';

const NOTICE_KEY = 'ultimate-agent.sign-in-notice';

function showSignIn(message = '') {
  $('signin').hidden = false;
  $('nav').hidden = true;
  $('main').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('signin-error').textContent = message;
  $('api-key').focus();
}

function startDashboard(session) {
  $('signin').hidden = true;
  $('nav').hidden = false;
  $('main').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = `signed in: ${session.permissions.join(', ')}`;
  // Controls the token may not use are not shown at all (the server refuses them anyway).
  for (const node of document.querySelectorAll('.needs-write')) node.hidden = !can('write');
  $('nav-admin').hidden = !can('admin');
  realtime.connect(session.token);
  for (const view of [overview, monitoring, tasks, taskDetail, ai, wallet, admin]) {
    view.init();
  }
  router.register('overview', overview);
  router.register('monitoring', monitoring);
  router.register('tasks', tasks);
  router.register('task', taskDetail);
  router.register('ai', ai);
  router.register('wallet', wallet);
  router.register('admin', admin);
  router.start();
}

function boot() {
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) {
      $('signin-error').textContent = 'Enter an API key.';
      $('api-key').setAttribute('aria-invalid', 'true');
      return;
    }
    const button = event.submitter || $('signin-form').querySelector('button');
    button.disabled = true;
    try {
      const session = await signIn(key);
      $('api-key').value = '';
      $('api-key').removeAttribute('aria-invalid');
      startDashboard(session);
    } catch (err) {
      $('api-key').setAttribute('aria-invalid', 'true');
      $('signin-error').textContent = `Sign-in failed: ${describeError(err)}`;
    } finally {
      button.disabled = false;
    }
  });
  $('sign-out').addEventListener('click', () => {
    realtime.disconnect();
    signOut();
    // A fresh page drops every view's state and timer along with the token.
    window.location.hash = '';
    window.location.reload();
  });
  window.addEventListener('session-expired', () => {
    realtime.disconnect();
    sessionStorage.setItem(NOTICE_KEY, 'Your session expired or its key was revoked: sign in again.');
    window.location.reload();
  });
  window.addEventListener('unhandledrejection', (event) => reportError('Unexpected error', event.reason));
  const session = current();
  if (session) startDashboard(session);
  else {
    showSignIn(sessionStorage.getItem(NOTICE_KEY) || '');
    sessionStorage.removeItem(NOTICE_KEY);
  }
}

try {
  boot();
} catch (err) {
  reportError('Starting the dashboard', err);
}
