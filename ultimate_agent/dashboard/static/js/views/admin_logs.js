// Admin: recent log entries (the get_logs remote command) and the remote-command audit list.

import { api } from '../api.js';
import { $, describeError, el, fmtNumber, fmtTime, pill, reportError } from '../dom.js';
import { runCommand } from './remote_command.js';

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

export function logsCard() {
  const form = el('form', { id: 'logs-form', class: 'inline-form' },
    el('label', { for: 'logs-level', text: 'Lowest level' }),
    el('select', { id: 'logs-level' }, el('option', { value: '', text: 'all' }), ...LEVELS.map((l) => el('option', { value: l, text: l }))),
    el('label', { for: 'logs-lines', text: 'Lines' }),
    el('input', { id: 'logs-lines', type: 'number', min: 1, max: 5000, step: 1, value: 100 }),
    el('button', { type: 'submit', text: 'Refresh logs' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    refreshLogs();
  });
  return el('div', { class: 'card' }, el('h3', { text: 'Recent logs' }), form,
    el('p', { id: 'logs-error', class: 'form-error', role: 'alert' }), el('p', { id: 'logs-source', class: 'muted' }),
    el('div', { id: 'logs-entries', class: 'logs' }));
}

export async function refreshLogs() {
  $('logs-error').textContent = '';
  const params = { lines: Number($('logs-lines').value) || 100 };
  if ($('logs-level').value) params.level = $('logs-level').value;
  try {
    const reply = await runCommand('get_logs', params);
    if (!reply.success) throw Object.assign(new Error(reply.error), { code: reply.error_code, details: reply.details });
    const entries = reply.result.entries || [];
    $('logs-source').textContent = `${entries.length} entries from ${(reply.result.files_read || []).join(', ') || 'the log file'}, newest last.`;
    $('logs-entries').replaceChildren(...entries.map((e) => el('p', { class: `log-entry ${e.level}` },
      `${e.timestamp} ${e.level} ${e.logger}: ${e.message}`)));
  } catch (err) {
    $('logs-error').textContent = `Could not read the logs: ${describeError(err)}`;
  }
}

export function auditCard() {
  return el('div', { class: 'card' }, el('h3', {}, 'Audit ', el('span', { id: 'audit-count', class: 'muted' })),
    el('div', { class: 'table-wrap' }, el('table', { id: 'audit-table', class: 'responsive' },
      el('thead', {}, el('tr', {}, ...['Time', 'Actor', 'Command', 'Outcome', 'Duration', 'From'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody'))));
}

export async function refreshAudit() {
  try {
    const page = await api('/api/v4/remote/audit', { query: { limit: 50 } });
    $('audit-count').textContent = `(${page.entries.length} of ${page.total})`;
    $('audit-table').tBodies[0].replaceChildren(...page.entries.map((e) => el('tr', { dataset: { command: e.command } },
      el('td', { dataset: { label: 'Time' }, text: fmtTime(e.timestamp) }),
      el('td', { dataset: { label: 'Actor' }, text: e.actor }),
      el('td', { dataset: { label: 'Command' }, class: 'mono', text: e.command }),
      el('td', { dataset: { label: 'Outcome' } }, pill(e.success ? 'success' : 'failed', e.success ? 'ok' : 'bad'),
        e.error ? el('span', { class: 'help', text: ` ${e.error}` }) : ''),
      el('td', { dataset: { label: 'Duration' }, text: e.duration_ms === null ? '–' : `${fmtNumber(e.duration_ms, 1)} ms` }),
      el('td', { dataset: { label: 'From' }, text: e.remote_addr || '–' }))));
  } catch (err) {
    reportError('Reading the audit list', err);
  }
}
