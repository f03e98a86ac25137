// One task: summary, configuration, loss/accuracy curves per epoch (its history), and its result.

import { api } from '../api.js';
import { lineChart } from '../charts.js';
import { $, el, fillKV, fmtDuration, fmtNumber, fmtTime, pill, reportError, shortHash } from '../dom.js';
import * as realtime from '../realtime.js';

const SKIP = new Set(['epoch', 'total_epochs', 'step', 'phase', 'batch', 'batches']);
let taskId = null;
let record = null;
let charts = [];

function isLoss(key) {
  return /loss|error|mse|mae/i.test(key);
}

function isAccuracy(key) {
  return /acc|r2|f1|precision|recall/i.test(key);
}

function drawCurves(history) {
  charts.forEach((chart) => chart.destroy());
  charts = [];
  const rows = (history || []).filter((row) => row && typeof row === 'object');
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))]
    .filter((key) => !SKIP.has(key) && rows.some((row) => typeof row[key] === 'number'));
  $('task-curves-empty').hidden = rows.length > 0 && keys.length > 0;
  if (!rows.length || !keys.length) return;
  const x = rows.map((row, i) => (typeof row.epoch === 'number' ? row.epoch : i + 1));
  const groups = [
    ['chart-loss', 'Loss per epoch', keys.filter(isLoss)],
    ['chart-accuracy', 'Accuracy per epoch', keys.filter((k) => !isLoss(k) && isAccuracy(k))],
    ['chart-other', 'Other metrics per epoch', keys.filter((k) => !isLoss(k) && !isAccuracy(k))],
  ];
  for (const [id, title, series] of groups) {
    if (!series.length) {
      $(id).replaceChildren();
      continue;
    }
    const chart = lineChart($(id), { title, series, time: false, xLabel: rows[0].epoch !== undefined ? 'Epoch' : 'Step' });
    chart.setData([x, ...series.map((key) => rows.map((row) => (typeof row[key] === 'number' ? row[key] : null)))]);
    charts.push(chart);
  }
}

function render(task) {
  record = task;
  $('task-title').textContent = `Task ${task.task_id}`;
  fillKV($('task-summary'), [
    ['Type', task.task_type],
    ['Status', pill(task.status)],
    ['Progress', el('span', {}, el('progress', { max: 100, value: task.progress || 0, 'aria-label': 'Task progress' }), ` ${fmtNumber(task.progress, 1)}%`)],
    ['Priority', task.priority],
    ['Created', fmtTime(task.created_at)],
    ['Started', fmtTime(task.start_time)],
    ['Ended', fmtTime(task.end_time)],
    ['Duration', fmtDuration(task.duration)],
    ['Reward', task.reward ? `${fmtNumber(task.reward, 8)} ETH` : '–'],
    ['Reward transaction', task.blockchain_tx ? el('span', { class: 'mono', title: task.blockchain_tx, text: shortHash(task.blockchain_tx) }) : '–'],
    ['Error', task.error],
  ]);
  fillKV($('task-config'), Object.entries(task.config || {}).map(([key, value]) => [key, JSON.stringify(value)]));
  fillKV($('task-ai-result'), Object.entries(task.ai_result || {}).map(([key, value]) => [key, typeof value === 'number' ? fmtNumber(value, 4) : JSON.stringify(value)]));
  $('task-result').textContent = task.result ? JSON.stringify(task.result, null, 2) : (task.status === 'completed' ? 'No result.' : 'No result yet.');
  drawCurves(task.history);
}

async function load() {
  render(await api(`/api/v4/tasks/${encodeURIComponent(taskId)}`));
}

export function init() {
  realtime.on('task_progress', (event) => {
    if (event.task_id !== taskId || !record || $('view-task').hidden) return;
    const details = event.details || {};
    // A new epoch's metrics arrive in the progress details: extend the curves without a round trip.
    const hasMetrics = Object.keys(details).some((key) => !SKIP.has(key) && typeof details[key] === 'number');
    if (typeof details.epoch === 'number' && hasMetrics) {
      record.history = [...(record.history || []).filter((row) => row.epoch !== details.epoch), details];
      drawCurves(record.history);
    }
  });
  realtime.on('task_completed', (event) => {
    if (event.task_id === taskId && !$('view-task').hidden) load().catch((err) => reportError(`Reading task ${taskId}`, err));
  });
  realtime.on('reward_claimed', (event) => {
    if (event.task_id === taskId && !$('view-task').hidden) load().catch((err) => reportError(`Reading task ${taskId}`, err));
  });
}

export async function show(params) {
  if (taskId && taskId !== params.id) realtime.emit('unsubscribe_task', { task_id: taskId });
  taskId = params.id;
  record = null;
  realtime.emit('subscribe_task', { task_id: taskId });
  await load();
}

export function hide() {
  charts.forEach((chart) => chart.destroy());
  charts = [];
}
