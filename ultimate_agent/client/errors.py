"""Client-side errors: one class per error code of the agent's envelope, plus transport failures."""

from __future__ import annotations

from typing import Any


class AgentError(Exception):
    """An error the agent answered with, or a failure to get an answer; carries the seed's envelope."""

    code = "UNKNOWN_ERROR"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None, envelope: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        if code is not None:
            self.code = code
        self.details = details or {}
        self.envelope = envelope or {"success": False, "error": message, "error_code": self.code,
                                     "details": self.details}
        self.headers = headers or {}
        self.attempts = attempts  # how many requests were sent, retries included

    def __str__(self) -> str:
        where = f"HTTP {self.status} " if self.status else ""
        return f"{where}{self.code}: {self.message}"


class InvalidRequest(AgentError):
    """Malformed or invalid request data (400); `details.field` names the field."""

    code = "INVALID_REQUEST"


class Unauthorized(AgentError):
    """Missing, invalid, expired or revoked credentials (401)."""

    code = "UNAUTHORIZED"


class Forbidden(AgentError):
    """The credential lacks the permission (403); `details.required` names it."""

    code = "FORBIDDEN"


class NotFound(AgentError):
    """No such resource (404)."""

    code = "NOT_FOUND"


class TaskNotFound(NotFound):
    """No such task (404)."""

    code = "TASK_NOT_FOUND"


class ModelNotFound(NotFound):
    """No such AI model (404)."""

    code = "MODEL_NOT_FOUND"


class MethodNotAllowed(AgentError):
    """The path exists but not for this method (405)."""

    code = "METHOD_NOT_ALLOWED"


class Conflict(AgentError):
    """The resource's state does not allow this (409), e.g. cancelling a finished task or a reverted call."""

    code = "CONFLICT"


class PayloadTooLarge(AgentError):
    """The request body is over the agent's MAX_CONTENT_LENGTH (413)."""

    code = "PAYLOAD_TOO_LARGE"


class RateLimited(AgentError):
    """Too many requests (429), after the client's retries; `retry_after` says when to come back."""

    code = "RATE_LIMITED"

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait, from the Retry-After header or the envelope's details."""
        value = self.headers.get("Retry-After", self.details.get("retry_after"))
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None


class InternalError(AgentError):
    """The agent failed unexpectedly (500)."""

    code = "INTERNAL_ERROR"


class ServiceUnavailable(AgentError):
    """A service of the agent is not running or not ready (503), e.g. the chain or a model in training."""

    code = "SERVICE_UNAVAILABLE"


class CommandFailed(AgentError):
    """A remote command was valid but could not act (the reply's `success` is false)."""

    code = "COMMAND_FAILED"


class ConnectionFailed(AgentError):
    """The agent could not be reached or did not answer in time (no envelope from the agent)."""

    code = "CONNECTION_ERROR"


class TaskWaitTimeout(AgentError, TimeoutError):
    """`wait_for_task` gave up before the task finished; `details.last` holds the last record seen."""

    code = "WAIT_TIMEOUT"


ERROR_CLASSES: dict[str, type[AgentError]] = {
    cls.code: cls for cls in (InvalidRequest, Unauthorized, Forbidden, NotFound, TaskNotFound, ModelNotFound,
                              MethodNotAllowed, Conflict, PayloadTooLarge, RateLimited, InternalError,
                              ServiceUnavailable, CommandFailed)
}


def error_from_envelope(envelope: dict[str, Any], status: int | None = None,
                        headers: dict[str, str] | None = None, attempts: int = 1) -> AgentError:
    """The exception for an error envelope; an unknown code still gives an AgentError with that code."""
    code = str(envelope.get("error_code") or "UNKNOWN_ERROR")
    cls = ERROR_CLASSES.get(code, AgentError)
    return cls(str(envelope.get("error") or code), status=status, code=code,
               details=envelope.get("details") if isinstance(envelope.get("details"), dict) else {},
               envelope=envelope, headers=headers, attempts=attempts)
