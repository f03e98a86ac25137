// Monitoring: live CPU/memory/GPU/task charts from real_time_data, stored history from the database.

import { api } from '../api.js';
import { COUNT_RANGE, lineChart, rollingChart } from '../charts.js';
import { $, fmtNumber, fmtPercent, parseTime, reportError } from '../dom.js';
import * as realtime from '../realtime.js';
import { isActive } from '../router.js';

const WINDOW_SECONDS = 10 * 60;
let loadChart = null;
let tasksChart = null;
let historyChart = null;
let historyTasksChart = null;
let hasGpu = false;

function onSample(sample) {
  const t = (parseTime(sample.timestamp) ?? Date.now()) / 1000;
  if (!loadChart) {
    hasGpu = Boolean(sample.gpu_available);
    loadChart = rollingChart($('chart-load'), {
      title: 'Load (%)', series: hasGpu ? ['CPU %', 'Memory %', 'GPU %'] : ['CPU %', 'Memory %'],
      windowSeconds: WINDOW_SECONDS, yRange: [0, 100],
    });
    tasksChart = rollingChart($('chart-tasks'), { title: 'Running tasks', series: ['Tasks'], windowSeconds: WINDOW_SECONDS, yRange: COUNT_RANGE });
  }
  const values = [sample.cpu_percent, sample.memory_percent];
  if (hasGpu) values.push(sample.gpu_percent);
  loadChart.push(t, values);
  tasksChart.push(t, [sample.tasks_running]);
  $('mon-live-empty').hidden = true;
  const gpu = hasGpu ? `, GPU ${fmtPercent(sample.gpu_percent)}` : ', no GPU';
  $('mon-latest').textContent = `Latest: CPU ${fmtPercent(sample.cpu_percent)}, memory ${fmtPercent(sample.memory_percent)}`
    + `${gpu}, disk ${fmtPercent(sample.disk_usage_percent)}, ${sample.tasks_running} running, health ${fmtNumber(sample.health_score, 1)}`;
}

async function loadHistory() {
  const hours = $('history-hours').value;
  const reply = await api('/api/database/performance', { query: { hours } });
  const rows = reply.metrics || [];
  $('history-summary').textContent = rows.length
    ? `${reply.data_points} stored samples over the last ${fmtNumber(reply.timeframe_hours, 1)} h.`
    : `No stored samples in the last ${fmtNumber(reply.timeframe_hours, 1)} h yet (the agent stores one sample per store interval).`;
  if (!historyChart) {
    historyChart = lineChart($('chart-history'), { title: 'Stored load and health', series: ['CPU %', 'Memory %', 'GPU %', 'Health'], yRange: [0, 100] });
    historyTasksChart = lineChart($('chart-history-tasks'), { title: 'Stored task count', series: ['Tasks'], yRange: COUNT_RANGE });
  }
  const times = rows.map((row) => parseTime(row.timestamp) / 1000);
  historyChart.setData([times, rows.map((r) => r.cpu_percent), rows.map((r) => r.memory_percent),
    rows.map((r) => r.gpu_percent), rows.map((r) => r.health_score)]);
  historyTasksChart.setData([times, rows.map((r) => r.task_count)]);
}

export function init() {
  $('mon-window').textContent = String(WINDOW_SECONDS / 60);
  realtime.on('real_time_data', onSample);
  realtime.on('connect', () => realtime.emit('request_real_time_data'));
  $('history-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadHistory().catch((err) => reportError('Reading performance history', err));
  });
}

export async function show() {
  // A sample at once rather than at the sampler's next tick.
  realtime.emit('request_real_time_data');
  if (isActive('monitoring')) await loadHistory();
}
