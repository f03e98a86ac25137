// Client-side errors: one class per error code of the agent's envelope, plus transport failures.

export class AgentError extends Error {
  static code = 'UNKNOWN_ERROR';

  constructor(message, { status = null, code = null, details = {}, envelope = null, headers = {}, attempts = 1 } = {}) {
    super(message);
    this.name = this.constructor.name;
    this.status = status;
    this.code = code ?? this.constructor.code;
    this.details = details ?? {};
    this.envelope = envelope ?? { success: false, error: message, error_code: this.code, details: this.details };
    this.headers = headers;
    this.attempts = attempts; // requests sent, retries included
  }
}

export class InvalidRequest extends AgentError { static code = 'INVALID_REQUEST'; }
export class Unauthorized extends AgentError { static code = 'UNAUTHORIZED'; }
export class Forbidden extends AgentError { static code = 'FORBIDDEN'; }
export class NotFound extends AgentError { static code = 'NOT_FOUND'; }
export class TaskNotFound extends NotFound { static code = 'TASK_NOT_FOUND'; }
export class ModelNotFound extends NotFound { static code = 'MODEL_NOT_FOUND'; }
export class MethodNotAllowed extends AgentError { static code = 'METHOD_NOT_ALLOWED'; }
export class Conflict extends AgentError { static code = 'CONFLICT'; }
export class PayloadTooLarge extends AgentError { static code = 'PAYLOAD_TOO_LARGE'; }
export class RateLimited extends AgentError {
  static code = 'RATE_LIMITED';

  /** Seconds to wait, from Retry-After or the envelope's details. */
  get retryAfter() {
    const value = this.headers['retry-after'] ?? this.details.retry_after;
    const seconds = Number(value);
    return value === undefined || Number.isNaN(seconds) ? null : seconds;
  }
}
export class InternalError extends AgentError { static code = 'INTERNAL_ERROR'; }
export class ServiceUnavailable extends AgentError { static code = 'SERVICE_UNAVAILABLE'; }
export class CommandFailed extends AgentError { static code = 'COMMAND_FAILED'; }
export class ConnectionFailed extends AgentError { static code = 'CONNECTION_ERROR'; }
export class TaskWaitTimeout extends AgentError { static code = 'WAIT_TIMEOUT'; }

export const ERROR_CLASSES = Object.fromEntries(
  [InvalidRequest, Unauthorized, Forbidden, NotFound, TaskNotFound, ModelNotFound, MethodNotAllowed, Conflict,
    PayloadTooLarge, RateLimited, InternalError, ServiceUnavailable, CommandFailed].map((cls) => [cls.code, cls]),
);

/** The error for an envelope; an unknown code still gives an AgentError carrying that code. */
export function errorFromEnvelope(envelope, { status = null, headers = {}, attempts = 1 } = {}) {
  const code = String(envelope?.error_code ?? 'UNKNOWN_ERROR');
  const Cls = ERROR_CLASSES[code] ?? AgentError;
  const details = envelope && typeof envelope.details === 'object' && envelope.details !== null ? envelope.details : {};
  return new Cls(String(envelope?.error ?? code), { status, code, details, envelope, headers, attempts });
}
