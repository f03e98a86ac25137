// Admin (admin tokens only): remote commands with parameter forms, confirmation for disruptive ones,
// their results; the logs and audit list live in admin_logs.js.

import { api } from '../api.js';
import { $, describeError, el, pill } from '../dom.js';
import { can } from '../session.js';
import * as logs from './admin_logs.js';
import { runCommand } from './remote_command.js';
import { schemaForm } from './schema_form.js';

// Commands that stop, restart or replace the running agent: a person confirms each run.
const DISRUPTIVE = { restart_agent: 'restart', shutdown_agent: 'shut down', update_agent: 'update and restart' };
let built = false;

function confirmRun(commandType) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = `This will ${DISRUPTIVE[commandType]} the agent (${commandType}). Tasks are checkpointed first. Continue?`;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

function showResult(commandType, reply, error) {
  const ok = !error && reply.success;
  const body = error ? describeError(error) : JSON.stringify(reply.success ? reply.result : { error: reply.error, error_code: reply.error_code, details: reply.details }, null, 2);
  $('command-results').prepend(el('li', { class: 'command-result', dataset: { command: commandType } },
    el('p', {}, pill(ok ? 'success' : 'failed', ok ? 'ok' : 'bad'), ' ', el('strong', { class: 'mono', text: commandType }),
      reply && reply.command_id ? el('span', { class: 'muted', text: ` ${reply.command_id}${reply.replayed ? ' (replayed)' : ''}` }) : ''),
    el('pre', { class: 'json', text: body })));
}

function commandCard(name, detail) {
  const prefix = `cmd-${name}`;
  const form = schemaForm(detail.parameters, prefix);
  const formError = el('p', { class: 'form-error', role: 'alert' });
  const disruptive = name in DISRUPTIVE;
  const button = el('button', { type: 'submit', class: disruptive ? 'danger' : '', text: disruptive ? `Run ${name}…` : `Run ${name}` });
  const node = el('form', { class: `command${disruptive ? ' disruptive' : ''}`, dataset: { command: name }, novalidate: true },
    el('h4', { text: name }), el('p', { class: 'help', text: `${detail.description || ''}${disruptive ? ' Asks for confirmation.' : ''}` }),
    ...form.fields, formError, button);
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.clear();
    formError.textContent = '';
    const params = form.collect();
    if (params === null) return;
    if (disruptive && !(await confirmRun(name))) {
      formError.textContent = 'Not run: cancelled.';
      return;
    }
    button.disabled = true;
    try {
      const reply = await runCommand(name, params);
      showResult(name, reply, null);
      if (!reply.success) formError.textContent = `${reply.error} [${reply.error_code}]`;
    } catch (err) {
      if (!(err.details && err.details.field && form.showError(err.details.field, err.details.message || err.message))) {
        formError.textContent = describeError(err);
      } else formError.textContent = `${err.message}: see the highlighted field.`;
      showResult(name, null, err);
    } finally {
      button.disabled = false;
      logs.refreshAudit();
    }
  });
  return node;
}

function dialog() {
  return el('dialog', { id: 'confirm-dialog', 'aria-labelledby': 'confirm-title' },
    el('form', { method: 'dialog' },
      el('h3', { id: 'confirm-title', text: 'Confirm command' }),
      el('p', { id: 'confirm-text' }),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', value: 'cancel', id: 'confirm-cancel', class: 'secondary', text: 'Cancel' }),
        el('button', { type: 'submit', value: 'confirm', id: 'confirm-ok', class: 'danger', text: 'Yes, run it' }))));
}

async function build() {
  const caps = await api('/api/v4/remote/capabilities');
  $('admin-content').replaceChildren(
    el('div', { class: 'card' }, el('h3', { text: 'Remote commands' }),
      el('div', { class: 'commands' }, ...caps.commands.map((name) => commandCard(name, caps.details[name] || {})))),
    el('div', { class: 'card' }, el('h3', { text: 'Command results' }),
      el('ul', { id: 'command-results', class: 'alerts', 'aria-live': 'polite' })),
    logs.logsCard(), logs.auditCard(), dialog());
  built = true;
}

export function init() {}

export async function show() {
  const allowed = can('admin');
  $('admin-denied').hidden = allowed;
  if (!allowed) {
    $('admin-content').replaceChildren();
    return;
  }
  if (!built) await build();
  await Promise.all([logs.refreshLogs(), logs.refreshAudit()]);
}
