// The retry rule against real refusals: the rate limiter's 429, the chain-less agent's 503, a closed port.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';

import { ConnectionFailed, RateLimited, ServiceUnavailable, UltimateAgentClient } from '../src/index.js';
import { startAgent } from './agent.js';

let agent;

before(async () => {
  agent = await startAgent({ RATE_LIMIT_GENERAL: '3 per 1 second', CHAIN_ENABLED: 'false', AI_MODELS_AUTOLOAD: 'false' });
});

after(async () => { await agent?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a real 429 is retried after Retry-After, then succeeds', async () => {
  await sleep(1100); // a fresh window
  const c = new UltimateAgentClient(agent.url, { apiKey: agent.adminKey, backoffMs: 50 });
  const retries = [];
  c.http.onRetry = (attempt, delay, reason) => retries.push({ attempt, delay, reason });
  for (let i = 0; i < 3; i += 1) await c.getStats();
  const started = Date.now();
  assert.equal((await c.getStats()).running, true);
  assert.ok(retries.length >= 1 && retries[0].reason === 'HTTP 429 RATE_LIMITED');
  assert.ok(retries[0].delay >= 100, 'it waited for the window, not just its own 50 ms backoff');
  assert.ok(Date.now() - started >= retries[0].delay);
});

test('a Retry-After longer than maxRetryAfterMs is not slept through', async () => {
  await sleep(1100);
  const c = new UltimateAgentClient(agent.url, { apiKey: agent.adminKey, maxRetryAfterMs: 10, backoffMs: 50 });
  for (let i = 0; i < 3; i += 1) await c.getStats();
  const error = await c.getStats().catch((e) => e);
  assert.ok(error instanceof RateLimited);
  assert.equal(error.status, 429);
  assert.equal(error.attempts, 1);
  assert.equal(error.envelope.error_code, 'RATE_LIMITED');
  assert.ok(error.retryAfter >= 0 && error.envelope.details.limit === 3);
});

test('a real 503 is retried with exponential backoff, then rejected', async () => {
  await sleep(1100);
  const c = new UltimateAgentClient(agent.url, { apiKey: agent.adminKey, retries: 2, backoffMs: 100 });
  const started = Date.now();
  const error = await c.getBalance().catch((e) => e);
  assert.ok(error instanceof ServiceUnavailable);
  assert.equal(error.attempts, 3);
  assert.ok(Date.now() - started >= 100 + 200);
});

test('a closed port is ConnectionFailed; reads are retried, a POST is not', async () => {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
  const c = new UltimateAgentClient(`http://127.0.0.1:${port}`, { apiKey: 'k'.repeat(20), retries: 2, backoffMs: 10 });
  const read = await c.getStats().catch((e) => e);
  assert.ok(read instanceof ConnectionFailed);
  assert.equal(read.attempts, 3);
  const write = await c.startTask('data_processing').catch((e) => e);
  assert.equal(write.attempts, 1);
});
