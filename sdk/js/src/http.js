// HTTP transport: bearer auth, a timeout on every call, retries with exponential backoff.
import { ConnectionFailed, errorFromEnvelope } from './errors.js';

// Methods that do the same thing when sent twice: a 5xx or a dropped connection may be retried for them.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
// Answers that say the agent refused before acting: retried for every method, POST included.
const REFUSED = new Set([429, 503]);
const RETRY = new Set([429, 500, 502, 503, 504]);
const STATUS_CODES = {
  400: 'INVALID_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED', 503: 'SERVICE_UNAVAILABLE',
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function seconds(value) {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  return Number.isNaN(number) ? null : number;
}

/** Seconds the agent asked to wait: Retry-After; on a 429 raised to X-RateLimit-Reset (Retry-After is truncated). */
export function retryAfterSeconds(response) {
  const waits = [seconds(response.headers.get('retry-after'))];
  if (response.status === 429 && response.headers.get('x-ratelimit-remaining') === '0') {
    const reset = seconds(response.headers.get('x-ratelimit-reset'));
    waits.push(reset === null ? null : reset - Date.now() / 1000);
  }
  const known = waits.filter((wait) => wait !== null);
  return known.length ? Math.max(...known) : null;
}

async function errorFor(response, attempts) {
  const headers = Object.fromEntries(response.headers.entries());
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: a proxy's page */ }
  if (body && typeof body === 'object' && body.error_code) {
    return errorFromEnvelope(body, { status: response.status, headers, attempts });
  }
  const code = STATUS_CODES[response.status] ?? (response.status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST');
  const envelope = { success: false, error: (text || `HTTP ${response.status}`).slice(0, 500), error_code: code, details: {} };
  return errorFromEnvelope(envelope, { status: response.status, headers, attempts });
}

export class Transport {
  constructor(baseUrl, { apiKey = null, timeoutMs = 30000, retries = 3, backoffMs = 500, maxBackoffMs = 30000,
    maxRetryAfterMs = 60000, fetchImpl = globalThis.fetch } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.backoffMs = backoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.maxRetryAfterMs = maxRetryAfterMs;
    this.fetch = fetchImpl;
    this.onRetry = null; // optional (attempt, delayMs, reason) hook, e.g. for logging
  }

  backoff(attempt) {
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
  }

  /** Send one call with retries; resolves to the parsed JSON (or text when raw), rejects with an AgentError. */
  async request(method, path, { json, query, idempotent, raw = false, timeoutMs } = {}) {
    method = method.toUpperCase();
    const safe = idempotent ?? IDEMPOTENT.has(method);
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers = { Accept: 'application/json' };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await this.fetch(url, {
          method, headers, body: json === undefined ? undefined : JSON.stringify(json),
          signal: AbortSignal.timeout(timeoutMs ?? this.timeoutMs),
        });
      } catch (cause) {
        if (safe && attempt <= this.retries) {
          await this.wait(attempt, null, cause.name);
          continue;
        }
        const error = new ConnectionFailed(`${method} ${url}: ${cause.message}`, { details: { url: String(url) }, attempts: attempt });
        error.cause = cause;
        throw error;
      }
      if (response.ok) {
        if (raw) return response.text();
        const text = await response.text();
        return text ? JSON.parse(text) : null;
      }
      const error = await errorFor(response, attempt);
      const retryable = RETRY.has(response.status) && (safe || REFUSED.has(response.status));
      if (!retryable || attempt > this.retries) throw error;
      const asked = retryAfterSeconds(response);
      if (asked !== null && asked * 1000 > this.maxRetryAfterMs) throw error;
      await this.wait(attempt, asked, `HTTP ${response.status} ${error.code}`);
    }
  }

  async wait(attempt, askedSeconds, reason) {
    // Honour the agent's Retry-After, never below our own backoff; a small margin past the reset second.
    const delay = Math.max(this.backoff(attempt), askedSeconds === null ? 0 : askedSeconds * 1000 + 50);
    this.onRetry?.(attempt, delay, reason);
    await sleep(delay);
  }
}
