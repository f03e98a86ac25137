// UltimateAgentClient: the seed's JavaScript client on fetch and socket.io-client, with token auth,
// typed errors and the Python SDK's retry rule.
import { io } from 'socket.io-client';

import { ConnectionFailed, TaskWaitTimeout, Unauthorized, errorFromEnvelope } from './errors.js';
import { Transport } from './http.js';

export const DEFAULT_URL = 'http://localhost:8080';
export const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

const env = (name) => (typeof process !== 'undefined' ? process.env?.[name] : undefined);
const seg = (value) => encodeURIComponent(String(value));

/** The key to use: the option, else $ULTIMATE_AGENT_API_KEY, else (local agent, Node) its instance's admin key file. */
export async function resolveApiKey(apiKey, baseUrl) {
  if (apiKey) return apiKey;
  if (env('ULTIMATE_AGENT_API_KEY')) return env('ULTIMATE_AGENT_API_KEY').trim();
  const instance = env('ULTIMATE_AGENT_INSTANCE_PATH');
  if (!instance || !LOCAL_HOSTS.has(new URL(baseUrl).hostname)) return null; // never send this machine's key elsewhere
  try {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(`${instance}/admin_api_key`, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

export class UltimateAgentClient {
  /**
   * @param {string} baseUrl the agent, default http://localhost:8080
   * @param {object} options apiKey (an API key or JWT), timeoutMs, retries, backoffMs, maxRetryAfterMs, transports
   */
  constructor(baseUrl = DEFAULT_URL, options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.options = options;
    this.http = new Transport(this.baseUrl, { ...options, apiKey: options.apiKey ?? options.token ?? null });
    this.socket = null;
    this._keyResolved = Boolean(this.http.apiKey);
  }

  /** The credential in use (after resolving it from the environment when none was given). */
  async credential() {
    if (!this._keyResolved) {
      this.http.apiKey = await resolveApiKey(null, this.baseUrl);
      this._keyResolved = true;
    }
    return this.http.apiKey;
  }

  async request(method, path, options) {
    await this.credential();
    return this.http.request(method, path, options);
  }

  get(path, query) { return this.request('GET', `/api${path}`, { query }); }

  post(path, json = {}, idempotent) { return this.request('POST', `/api${path}`, { json, idempotent }); }

  // -- token auth ----------------------------------------------------------------------------

  /** Mint a JWT with at most this credential's permissions (POST /api/auth/token). */
  createToken({ permissions, agentId } = {}) {
    const body = {};
    if (permissions) body.permissions = permissions;
    if (agentId) body.agent_id = agentId;
    return this.post('/auth/token', body);
  }

  /** Swap the API key for a short-lived JWT; later calls and the socket use the token. */
  async authenticate({ permissions, agentId } = {}) {
    const reply = await this.createToken({ permissions, agentId });
    this.http.apiKey = reply.token;
    if (this.socket) { this.socket.close(); this.socket = null; }
    return reply;
  }

  listKeys() { return this.get('/auth/keys'); }

  createKey(name, permissions = ['read']) { return this.post('/auth/keys', { name, permissions }); }

  revokeKey(keyId) { return this.request('DELETE', `/api/auth/keys/${Number(keyId)}`); }

  // -- status and monitoring -----------------------------------------------------------------

  getStats() { return this.get('/stats'); }

  /** Enhanced status (GET /api/v3/stats/enhanced), as in the seed. */
  getStatus() { return this.get('/v3/stats/enhanced'); }

  getSystem() { return this.get('/system'); }

  getCapabilities() { return this.get('/capabilities'); }

  getActivity() { return this.get('/activity'); }

  getNetwork() { return this.get('/network'); }

  getHealth() { return this.get('/health'); }

  getPerformanceMetrics() { return this.get('/performance/metrics'); }

  getPrometheusMetrics() { return this.request('GET', '/metrics', { raw: true }); }

  // -- tasks ---------------------------------------------------------------------------------

  getTasks() { return this.get('/tasks'); }

  getTask(taskId) { return this.get(`/v4/tasks/${seg(taskId)}`); }

  getTaskTypes() { return this.get('/v4/task_types'); }

  /** Queue a task (POST /api/start_task), as in the seed: startTask(type, config). */
  startTask(taskType, config = {}, { priority } = {}) {
    const body = { type: taskType, config };
    if (priority !== undefined) body.priority = priority;
    return this.post('/start_task', body);
  }

  cancelTask(taskId) { return this.post(`/cancel_task/${seg(taskId)}`); }

  pauseTask(taskId) { return this.post(`/v4/tasks/${seg(taskId)}/pause`); }

  resumeTask(taskId) { return this.post(`/v4/tasks/${seg(taskId)}/resume`); }

  setTaskPriority(taskId, priority) { return this.post(`/v4/tasks/${seg(taskId)}/priority`, { priority }); }

  // -- AI ------------------------------------------------------------------------------------

  getAICapabilities() { return this.get('/v3/ai/capabilities'); }

  getTrainingStatus() { return this.get('/training'); }

  /** Run a model on one input; inference changes nothing, so it is safe to repeat after a 5xx. */
  runInference(model, input, options) {
    const body = { model, input };
    if (options) body.options = options;
    return this.post('/ai/inference', body, true);
  }

  listModels() { return this.get('/v4/ai/models'); }

  getModel(name) { return this.get(`/v4/ai/models/${seg(name)}`); }

  deleteModel(name) { return this.request('DELETE', `/api/v4/ai/models/${seg(name)}`); }

  // -- blockchain ----------------------------------------------------------------------------

  getBlockchainStatus() { return this.get('/v3/blockchain/enhanced'); }

  getBalance() { return this.get('/blockchain/balance'); }

  getTransactions({ limit, page, currency } = {}) { return this.get('/blockchain/transactions', { limit, page, currency }); }

  getContracts() { return this.get('/v4/blockchain/contracts'); }

  executeContract(contractType, method, params = {}) {
    return this.post('/blockchain/smart-contract/execute', { contract_type: contractType, method, params });
  }

  // -- database ------------------------------------------------------------------------------

  getDatabaseStats() { return this.get('/database/stats'); }

  getTaskRecords({ limit, offset, taskType, status } = {}) {
    return this.get('/database/tasks', { limit, offset, task_type: taskType, status });
  }

  getPerformanceHistory({ hours } = {}) { return this.get('/database/performance', { hours }); }

  // -- remote management ---------------------------------------------------------------------

  /** Run a remote command; rejects with the reply's error when its success is false. */
  async remoteCommand(commandType, parameters = {}, commandId = undefined) {
    // A command_id makes a repeat replay the first reply, so the call may be retried after a 5xx.
    const id = commandId ?? `cmd-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    const reply = await this.post('/v4/remote/command', { command_type: commandType, parameters, command_id: id }, true);
    if (reply && reply.success === false) throw errorFromEnvelope(reply, { status: 200 });
    return reply;
  }

  getRemoteCapabilities() { return this.get('/v4/remote/capabilities'); }

  getRemoteAudit({ limit, offset, command, success } = {}) {
    return this.get('/v4/remote/audit', { limit, offset, command, success });
  }

  // -- live events ---------------------------------------------------------------------------

  /** The seed's socket: connected with this client's token (auth: {token}); agent-wide events arrive on it. */
  connectWebSocket() {
    if (!this.socket) {
      // auth as a function: it runs at each (re)connect, after the key is resolved, with the current token.
      const options = { auth: (cb) => { this.credential().then((token) => cb({ token: token ?? '' })); }, reconnection: true };
      if (this.options.transports) options.transports = this.options.transports;
      this.socket = io(this.baseUrl, options);
    }
    return this.socket;
  }

  /** Resolve once the socket is connected; reject with Unauthorized when the agent refuses the token. */
  async connected() {
    await this.credential();
    const socket = this.connectWebSocket();
    if (socket.connected) return socket;
    return new Promise((resolve, reject) => {
      const cleanup = () => { socket.off('connect', onConnect); socket.off('connect_error', onError); };
      const onConnect = () => { cleanup(); resolve(socket); };
      const onError = (error) => {
        if (socket.active) return; // a transport hiccup: socket.io-client retries by itself
        cleanup();
        this.socket = null;
        const message = `Socket.IO connection refused: ${error.message}`;
        reject(/unauthori[sz]ed/i.test(error.message) ? new Unauthorized(message) : new ConnectionFailed(message));
      };
      socket.on('connect', onConnect);
      socket.on('connect_error', onError);
    });
  }

  /** Call handler(data) on every live event (task_progress, task_completed, reward_claimed, ...). */
  async on(event, handler) {
    const socket = await this.connected();
    socket.on(event, handler);
    return handler;
  }

  off(event, handler) { this.socket?.off(event, handler); }

  /**
   * Resolve with the task's final record once it is completed, failed or cancelled.
   * Progress comes from task_progress events; the record is re-read every pollIntervalMs as well,
   * so a missed event delays the answer but never loses it.
   */
  async waitForTask(taskId, { onProgress, timeoutMs, pollIntervalMs = 5000 } = {}) {
    const socket = await this.connected();
    let changed = false;
    let wake = null;
    const signal = () => { changed = true; wake?.(); };
    const progress = (data) => {
      if (data?.task_id !== taskId) return;
      onProgress?.(data);
      if (FINAL_STATES.has(data.status)) signal();
    };
    const completed = (data) => { if (data?.task_id === taskId) signal(); };
    // Listen before the first read: an end between the read and the subscription cannot be missed.
    socket.on('task_progress', progress);
    socket.on('task_completed', completed);
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    try {
      let record = await this.getTask(taskId);
      while (!FINAL_STATES.has(record.status)) {
        const remaining = Math.min(pollIntervalMs, deadline - Date.now());
        if (remaining <= 0) {
          throw new TaskWaitTimeout(`Task ${taskId} still ${record.status} after ${timeoutMs} ms`,
            { details: { task_id: taskId, last: record } });
        }
        if (!changed) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, remaining);
            wake = () => { clearTimeout(timer); resolve(); };
          });
        }
        wake = null;
        changed = false;
        record = await this.getTask(taskId);
      }
      return record;
    } finally {
      socket.off('task_progress', progress);
      socket.off('task_completed', completed);
    }
  }

  /** Close the socket (HTTP needs no closing). */
  close() {
    this.socket?.close();
    this.socket = null;
  }
}
