// Ultimate Agent JavaScript SDK (ES module, no build step).
export { DEFAULT_URL, FINAL_STATES, UltimateAgentClient, resolveApiKey } from './client.js';
export * from './errors.js';
export { Transport, retryAfterSeconds } from './http.js';
