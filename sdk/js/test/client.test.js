// The SDK against a live agent (embedded chain, built-in models): every endpoint area, events, typed errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Conflict, Forbidden, ModelNotFound, TaskNotFound, TaskWaitTimeout, UltimateAgentClient, Unauthorized,
} from '../src/index.js';
import { startAgent } from './agent.js';

let agent;
const clients = [];
const client = (options = {}) => {
  const made = new UltimateAgentClient(agent.url, { apiKey: agent.adminKey, backoffMs: 50, ...options });
  clients.push(made);
  return made;
};

before(async () => {
  agent = await startAgent({ WALLET_SCRYPT_N: 1024, AI_MODELS_AUTOLOAD: 'true', CHAIN_ENABLED: 'true' });
});

after(async () => {
  for (const made of clients) made.close();
  await agent?.stop();
});

describe('UltimateAgentClient against a live agent', () => {
  test("the seed's usage runs with a key", async () => {
    const seed = client();
    const status = await seed.getStatus();
    assert.equal(status.running, true);
    const socket = seed.connectWebSocket();
    const completed = new Promise((resolve) => socket.on('task_completed', resolve));
    const result = await seed.startTask('neural_network_training', { epochs: 2, batch_size: 32 });
    assert.match(result.task_id, /^task-/);
    const event = await completed;
    assert.equal(event.task_id, result.task_id);
    assert.equal(event.success, true);
  });

  test('status, monitoring and database calls return the agent\'s figures', async () => {
    const c = client();
    const stats = await c.getStats();
    assert.match(stats.agent_id, /^ultimate-/);
    assert.equal((await c.getCapabilities()).agent_id, stats.agent_id);
    assert.equal((await c.getSystem()).status, 'online');
    assert.ok('activity_level' in (await c.getActivity()));
    assert.equal((await c.getNetwork()).agent_id, stats.agent_id);
    const health = await c.getHealth();
    assert.ok(health.health_score >= 0 && health.health_score <= 100);
    assert.ok((await c.getPerformanceMetrics()).process.threads > 0);
    assert.match(await c.getPrometheusMetrics(), /# TYPE/);
    assert.ok((await c.getDatabaseStats()).tables.includes('task_records'));
    assert.ok(Array.isArray((await c.getTaskRecords({ limit: 5 })).tasks));
    assert.equal((await c.getPerformanceHistory({ hours: 1 })).timeframe_hours, 1);
  });

  test('waitForTask resolves with the final record and reports progress', async () => {
    const c = client();
    const { task_id: taskId } = await c.startTask('neural_network_training', { epochs: 3, batch_size: 32 });
    const updates = [];
    const record = await c.waitForTask(taskId, { onProgress: (data) => updates.push(data), timeoutMs: 120_000 });
    assert.equal(record.status, 'completed');
    assert.equal(record.progress, 100);
    assert.deepEqual(record.history.map((h) => h.epoch), [1, 2, 3]);
    assert.ok(updates.length > 0 && updates.every((u) => u.task_id === taskId));
    assert.equal(updates.at(-1).status, 'completed');
  });

  test('pause, priority, resume and cancel; typed task errors', async () => {
    const c = client();
    const { task_id: taskId } = await c.startTask('neural_network_training', { epochs: 400, batch_size: 8 }, { priority: 4 });
    await assert.rejects(c.waitForTask(taskId, { timeoutMs: 300 }), TaskWaitTimeout);
    assert.equal((await c.pauseTask(taskId)).status, 'paused');
    assert.equal((await c.setTaskPriority(taskId, 9)).priority, 9);
    assert.equal((await c.getTasks()).current_tasks[taskId].priority, 9);
    assert.ok(['running', 'queued'].includes((await c.resumeTask(taskId)).status));
    assert.equal((await c.cancelTask(taskId)).status, 'cancelled');
    assert.equal((await c.waitForTask(taskId, { timeoutMs: 30_000 })).status, 'cancelled');
    const conflict = await c.cancelTask(taskId).catch((e) => e);
    assert.ok(conflict instanceof Conflict);
    assert.equal(conflict.status, 409);
    const missing = await c.getTask('task-missing').catch((e) => e);
    assert.ok(missing instanceof TaskNotFound);
    assert.deepEqual(missing.envelope.details, { task_id: 'task-missing' });
    assert.ok((await c.getTaskTypes()).task_types.some((t) => t.name === 'data_processing'));
  });

  test('AI inference and models', async () => {
    const c = client();
    const result = await c.runInference('sentiment', 'This is great!');
    assert.equal(result.prediction, 'positive');
    assert.ok(result.confidence > 0.5);
    assert.ok((await c.listModels()).models.some((m) => m.name === 'sentiment'));
    assert.equal((await c.getModel('sentiment')).name, 'sentiment');
    assert.ok('models_loaded' in (await c.getAICapabilities()));
    assert.ok('training_active' in (await c.getTrainingStatus()));
    await assert.rejects(c.runInference('no-such-model', 'x'), ModelNotFound);
  });

  test('blockchain: balance, contract execution, transactions', async () => {
    const c = client();
    const balance = await c.getBalance();
    assert.match(balance.wallet_address, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(balance.balances.PAIN, 1000);
    assert.equal((await c.getBlockchainStatus()).wallet, balance.wallet_address);
    assert.ok((await c.getContracts()).contracts.some((x) => x.contract_type === 'task_rewards'));
    const taskId = `task-js-${Date.now()}`;
    const executed = await c.executeContract('task_rewards', 'claimReward', { task_id: taskId, amount: 0.01 });
    assert.match(executed.transaction_hash, /^0x[0-9a-f]{64}$/);
    const history = await c.getTransactions({ limit: 20 });
    assert.ok(history.transactions.some((t) => t.hash === executed.transaction_hash));
    const again = await c.executeContract('task_rewards', 'claimReward', { task_id: taskId, amount: 0.01 }).catch((e) => e);
    assert.ok(again instanceof Conflict);
    assert.equal(again.details.revert_reason, 'TaskRewards: reward already claimed');
  });

  test('remote commands, capabilities and audit', async () => {
    const c = client();
    assert.ok((await c.getRemoteCapabilities()).commands.includes('get_status'));
    const reply = await c.remoteCommand('get_status', {}, 'cmd-js-1');
    assert.equal(reply.success, true);
    assert.equal((await c.remoteCommand('get_status', {}, 'cmd-js-1')).replayed, true);
    const audit = await c.getRemoteAudit({ command: 'get_status' });
    assert.ok(audit.entries.some((e) => e.command_id === 'cmd-js-1'));
    await assert.rejects(c.remoteCommand('pause_task', { task_id: 'task-unknown' }), TaskNotFound);
  });

  test('token auth: a JWT for HTTP and the socket; keys can be revoked', async () => {
    const admin = client();
    const created = await admin.createKey('js-reader', ['read']);
    assert.deepEqual(created.permissions, ['read']);
    assert.ok((await admin.listKeys()).keys.some((k) => k.name === 'js-reader'));
    const reader = client({ apiKey: created.key });
    const token = await reader.authenticate({ permissions: ['read'] });
    assert.ok(token.expires_in > 0);
    assert.equal(reader.http.apiKey, token.token);
    assert.equal((await reader.getStats()).running, true);
    await assert.rejects(reader.listKeys(), Forbidden);
    const { task_id: taskId } = await admin.startTask('data_processing');
    assert.equal((await reader.waitForTask(taskId, { timeoutMs: 60_000 })).status, 'completed');
    await admin.revokeKey(created.id);
    await assert.rejects(reader.getStats(), Unauthorized);
    await assert.rejects(client({ apiKey: 'ua_wrong-wrong-wrong' }).on('task_progress', () => {}), Unauthorized);
  });

  test('the key falls back to the local instance\'s admin key file', async () => {
    process.env.ULTIMATE_AGENT_INSTANCE_PATH = agent.instance;
    try {
      const local = new UltimateAgentClient(agent.url);
      assert.equal(await local.credential(), agent.adminKey);
      assert.ok((await local.listKeys()).keys.length > 0);
    } finally {
      delete process.env.ULTIMATE_AGENT_INSTANCE_PATH;
    }
  });
});
