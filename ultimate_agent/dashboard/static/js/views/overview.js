// Overview: status, task counts, earnings, health with its components, live alerts, network node.

import { api } from '../api.js';
import { $, el, fillKV, fmtDuration, fmtNumber, fmtTime, pill, reportError, setText } from '../dom.js';
import * as realtime from '../realtime.js';

const HEALTH_REFRESH_MS = 10000;
let lastHealth = 0;
const alerts = new Map();

function renderStats(stats) {
  setText('ov-agent-id', stats.agent_id);
  setText('agent-id', stats.agent_id);
  $('ov-status').replaceChildren(pill(stats.running ? 'running' : 'stopped', stats.running ? 'ok' : 'bad'),
    ' ', pill(stats.registered ? 'registered' : 'not registered', stats.registered ? 'ok' : 'warn'));
  setText('ov-uptime', fmtDuration(stats.uptime_hours * 3600));
  setText('ov-models', stats.ai_models_loaded);
  setText('ov-running', stats.current_tasks);
  setText('ov-completed', stats.tasks_completed);
  setText('ov-failed', stats.tasks_failed);
  setText('ov-earnings', fmtNumber(stats.total_earnings, 8));
}

function renderHealth(health) {
  setText('ov-health-score', fmtNumber(health.health_score, 1));
  $('ov-health-status').replaceWith(Object.assign(pill(health.status), { id: 'ov-health-status' }));
  $('ov-health-components').replaceChildren(...Object.entries(health.components || {}).map(([name, score]) =>
    el('li', {},
      el('span', { text: name }),
      el('meter', { min: 0, max: 100, low: 50, high: 75, optimum: 100, value: score, 'aria-label': `${name} score` }),
      el('span', { text: fmtNumber(score, 1) }))));
  // Active alerts from the report; new ones also arrive as system_alert events.
  for (const alert of health.alerts || []) addAlert(alert, false);
}

// One line per alert kind: a live system_alert replaces the line of the same type and severity.
function addAlert(alert, live) {
  const key = `${alert.type}:${alert.severity}`;
  const existing = alerts.get(key);
  if (existing && !live) return;
  const when = alert.timestamp ? fmtTime(alert.timestamp) : 'active';
  const value = alert.value !== undefined && alert.value !== null
    ? ` (${fmtNumber(alert.value, 1)}, threshold ${fmtNumber(alert.threshold, 1)})` : '';
  const item = el('li', { class: alert.severity },
    pill(alert.severity), ' ', el('strong', { text: alert.type }), ` ${alert.message}${value} — ${when}`);
  if (existing) existing.remove();
  alerts.set(key, item);
  $('ov-alerts').prepend(item);
  $('ov-alerts-empty').hidden = true;
}

function renderNetwork(network) {
  fillKV($('ov-network'), [
    ['Node', network.node_url],
    ['Status', pill(network.network_status, network.network_status === 'connected' ? 'ok' : 'warn')],
    ['Registered', network.registered ? 'yes' : 'no'],
    ['Node id', network.node_id],
    ['Connection', network.connection_quality],
    ['Last heartbeat', network.last_heartbeat ? fmtTime(network.last_heartbeat) : 'never'],
  ]);
}

export async function refreshStats() {
  renderStats(await api('/api/stats'));
}

async function refreshHealth() {
  lastHealth = Date.now();
  renderHealth(await api('/api/health'));
}

export function init() {
  realtime.on('stats_update', renderStats);
  realtime.on('system_alert', (alert) => addAlert(alert, true));
  realtime.on('real_time_data', () => {
    // Health components are not in the live sample: re-read them now and then while samples flow.
    if (Date.now() - lastHealth > HEALTH_REFRESH_MS) refreshHealth().catch((err) => reportError('Reading health', err));
  });
  const statsChanged = () => refreshStats().catch((err) => reportError('Reading agent status', err));
  realtime.on('task_completed', statsChanged);
  realtime.on('reward_claimed', statsChanged);
  realtime.on('connected', (hello) => setText('agent-id', hello.agent_id));
}

export async function show() {
  const parts = [['agent status', refreshStats()], ['health', refreshHealth()],
    ['network status', api('/api/network').then(renderNetwork)]];
  const results = await Promise.allSettled(parts.map(([, promise]) => promise));
  results.forEach((result, i) => {
    if (result.status === 'rejected') reportError(`Reading ${parts[i][0]}`, result.reason);
  });
}
