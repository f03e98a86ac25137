// Tasks: the table with live progress bars, and the actions (pause, resume, cancel, priority).

import { api } from '../api.js';
import { $, el, fmtDuration, fmtNumber, notify, parseTime, pill, reportError } from '../dom.js';
import * as realtime from '../realtime.js';
import { can } from '../session.js';
import * as startForm from './task_form.js';

const ACTIVE = ['queued', 'running', 'paused'];
const RECENT_LIMIT = 25;
const rows = new Map(); // task_id -> { data, row }
let ticker = null;

function durationOf(data) {
  if (data.duration !== null && data.duration !== undefined) return data.duration;
  const start = parseTime(data.start_time);
  if (start === null) return null;
  const end = parseTime(data.end_time) ?? Date.now();
  return (end - start) / 1000;
}

function rewardCell(data) {
  if (!data.reward) return '–';
  const state = data.reward_confirmed ? 'confirmed' : (ACTIVE.includes(data.status) ? '' : 'claiming');
  return el('span', {}, `${fmtNumber(data.reward, 8)} ETH `, state ? pill(state, state === 'confirmed' ? 'ok' : 'warn') : '');
}

async function act(taskId, action, body) {
  const paths = {
    pause: `/api/v4/tasks/${encodeURIComponent(taskId)}/pause`,
    resume: `/api/v4/tasks/${encodeURIComponent(taskId)}/resume`,
    cancel: `/api/cancel_task/${encodeURIComponent(taskId)}`,
    priority: `/api/v4/tasks/${encodeURIComponent(taskId)}/priority`,
  };
  try {
    const reply = await api(paths[action], { method: 'POST', body });
    upsert({ task_id: taskId, status: reply.status, ...(reply.priority ? { priority: reply.priority } : {}) });
    notify(`Task ${taskId}: ${action === 'priority' ? `priority ${reply.priority}` : reply.status}`, 'info');
  } catch (err) {
    reportError(`Could not ${action} task ${taskId}`, err);
    refresh().catch((e) => reportError('Reading tasks', e));
  }
}

function priorityControl(data) {
  if (!can('write')) return String(data.priority ?? '–');
  const select = el('select', {
    'aria-label': `Priority of ${data.task_id}`, disabled: !ACTIVE.includes(data.status),
    onchange: () => act(data.task_id, 'priority', { priority: Number(select.value) }),
  }, ...Array.from({ length: 10 }, (_, i) => el('option', { value: i + 1, text: String(i + 1) })));
  select.value = String(data.priority ?? 5);
  return select;
}

function actions(data) {
  if (!can('write') || !ACTIVE.includes(data.status)) return '';
  const button = (label, action, cls = 'secondary') => el('button', {
    type: 'button', class: cls, text: label, 'aria-label': `${label} ${data.task_id}`,
    onclick: () => act(data.task_id, action),
  });
  return el('div', { class: 'actions' },
    data.status === 'running' ? button('Pause', 'pause') : '',
    data.status === 'paused' ? button('Resume', 'resume') : '',
    button('Cancel', 'cancel', 'danger'));
}

// Each column: its label, what it depends on, and how it is drawn. A cell is redrawn only when what it
// depends on changed, so a progress event does not steal keyboard focus from that row's controls.
const COLUMNS = [
  ['Task', (d) => d.task_id, (d) => el('a', { href: `#/tasks/${encodeURIComponent(d.task_id)}`, class: 'mono', text: d.task_id })],
  ['Type', (d) => d.task_type, (d) => d.task_type || '–'],
  ['Status', (d) => `${d.status}|${d.error}`, (d) => [pill(d.status), d.error ? el('span', { class: 'help', text: ` ${d.error}` }) : '']],
  ['Progress', (d) => `${d.progress}|${d.details?.epoch}`, progressCell],
  ['Priority', (d) => `${d.priority}|${d.status}`, priorityControl],
  ['Duration', (d) => `${d.duration}|${d.start_time}|${d.end_time}|${d.status}`, (d) => el('span', { class: 'duration', text: fmtDuration(durationOf(d)) })],
  ['Reward', (d) => `${d.reward}|${d.reward_confirmed}|${d.status}`, rewardCell],
  ['Actions', (d) => d.status, actions],
];

function progressCell(data) {
  const progress = Number(data.progress || 0);
  const epoch = data.details && data.details.epoch ? ` epoch ${data.details.epoch}/${data.details.total_epochs ?? '?'}` : '';
  return [
    el('progress', { max: 100, value: progress, 'aria-label': `Progress of ${data.task_id}` }),
    el('span', { class: 'progress-text', text: ` ${progress.toFixed(0)}%${epoch}` }),
  ];
}

function drawRow(entry) {
  if (!entry.row) {
    entry.row = el('tr', {}, ...COLUMNS.map(([label]) => el('td', { dataset: { label } })));
    entry.keys = [];
  }
  entry.row.dataset.taskId = entry.data.task_id;
  entry.row.dataset.status = entry.data.status;
  COLUMNS.forEach(([, key, draw], i) => {
    const signature = String(key(entry.data));
    if (entry.keys[i] === signature) return;
    entry.keys[i] = signature;
    entry.row.cells[i].replaceChildren(...[draw(entry.data)].flat());
  });
}

function placeRows() {
  const ordered = [...rows.values()].sort((a, b) =>
    (parseTime(b.data.created_at) ?? Infinity) - (parseTime(a.data.created_at) ?? Infinity));
  $('tasks-table').tBodies[0].replaceChildren(...ordered.map((entry) => entry.row));
  $('tasks-empty').hidden = rows.size > 0;
}

export function upsert(partial) {
  const known = rows.get(partial.task_id);
  const entry = known || { data: { created_at: new Date().toISOString() } };
  entry.data = { ...entry.data, ...partial };
  drawRow(entry);
  if (!known) {
    rows.set(partial.task_id, entry);
    placeRows();
  }
  return entry.data;
}

export async function refresh() {
  const [current, recent] = await Promise.all([
    api('/api/tasks'), api('/api/database/tasks', { query: { limit: RECENT_LIMIT } }),
  ]);
  const fresh = new Map();
  for (const record of recent.tasks || []) {
    fresh.set(record.task_id, { ...record, reward_confirmed: Boolean(record.blockchain_tx) });
  }
  for (const task of Object.values(current.current_tasks || {})) {
    fresh.set(task.task_id, { ...(fresh.get(task.task_id) || {}), ...task });
  }
  for (const [taskId, data] of fresh) {
    const entry = rows.get(taskId) || { data: {} };
    entry.data = { ...entry.data, ...data, reward_confirmed: entry.data.reward_confirmed || data.reward_confirmed };
    drawRow(entry);
    rows.set(taskId, entry);
  }
  for (const taskId of [...rows.keys()]) if (!fresh.has(taskId)) rows.delete(taskId);
  placeRows();
  const s = current.scheduler_status || {};
  $('tasks-scheduler').textContent = `(${s.current_tasks ?? 0} running of ${s.max_concurrent_tasks ?? '?'}, ${s.queued_tasks ?? 0} queued)`;
}

function tick() {
  // Running tasks' durations count up between events.
  for (const entry of rows.values()) {
    if (entry.data.status === 'running' && entry.row.isConnected) {
      entry.row.querySelector('.duration').textContent = fmtDuration(durationOf(entry.data));
    }
  }
}

export function init() {
  realtime.on('task_progress', (event) => {
    const known = rows.get(event.task_id);
    const started = event.status === 'running' && known && !known.data.start_time ? { start_time: new Date().toISOString() } : {};
    upsert({ task_id: event.task_id, progress: event.progress, status: event.status, details: event.details, ...started });
    if (!known) refresh().catch((err) => reportError('Reading tasks', err));
  });
  realtime.on('task_completed', (event) => {
    upsert({
      task_id: event.task_id, task_type: event.task_type, status: event.status, duration: event.duration,
      error: event.error, reward: event.reward, ...(event.success ? { progress: 100 } : {}),
      end_time: new Date().toISOString(),
    });
  });
  realtime.on('reward_claimed', (event) => {
    if (event.task_id && rows.has(event.task_id)) upsert({ task_id: event.task_id, reward: event.amount, reward_confirmed: true, blockchain_tx: event.transaction_hash });
  });
  startForm.init((submitted) => upsert({ ...submitted, progress: 0, created_at: new Date().toISOString() }));
  ticker = ticker || setInterval(tick, 1000);
}

export async function show() {
  await Promise.all([refresh(), can('write') ? startForm.load() : null]);
}
