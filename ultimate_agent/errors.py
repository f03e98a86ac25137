"""Domain errors and the one handler that renders every error in the seed's envelope."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, jsonify
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class APIError(Exception):
    """An error a client can act on: carries the seed's error code, HTTP status and details."""

    status = 500
    code = "INTERNAL_ERROR"
    message = "Internal server error"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None,
                 status: int | None = None, code: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class InvalidRequest(APIError):
    """Malformed or invalid request data (400)."""

    status, code, message = 400, "INVALID_REQUEST", "Malformed request data"


class Unauthorized(APIError):
    """Missing, invalid or expired credentials (401)."""

    status, code, message = 401, "UNAUTHORIZED", "Authentication required"


class Forbidden(APIError):
    """The caller lacks the permission (403)."""

    status, code, message = 403, "FORBIDDEN", "Insufficient permissions"


class NotFound(APIError):
    """No such resource (404)."""

    status, code, message = 404, "NOT_FOUND", "Resource not found"


class TaskNotFound(APIError):
    """No such task (404)."""

    status, code, message = 404, "TASK_NOT_FOUND", "Task not found"


class ModelNotFound(APIError):
    """No such AI model (404)."""

    status, code, message = 404, "MODEL_NOT_FOUND", "AI model not found"


class Conflict(APIError):
    """The resource's state does not allow this (409)."""

    status, code, message = 409, "CONFLICT", "The resource is not in a state that allows this"


class RateLimited(APIError):
    """Too many requests (429)."""

    status, code, message = 429, "RATE_LIMITED", "Rate limit exceeded"


class ServiceUnavailable(APIError):
    """A service is not ready or not running (503)."""

    status, code, message = 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"


# Statuses werkzeug raises itself (routing, body size, parsing) and the code each maps to.
HTTP_STATUS_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "INVALID_REQUEST",
    422: "INVALID_REQUEST",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def envelope(message: str, code: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the seed's error body."""
    return {"success": False, "error": message, "error_code": code, "details": details or {}}


def _first_validation_error(messages: Any, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """Walk marshmallow's nested messages to the first leaf: (dotted field, message)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            return _first_validation_error(value, (*path, str(key)))
    if isinstance(messages, list) and messages:
        if all(isinstance(item, str) for item in messages):
            return ".".join(path), messages[0]
        return _first_validation_error(messages[0], path)
    return ".".join(path), str(messages)


def validation_details(messages: dict[str, Any]) -> dict[str, Any]:
    """Turn webargs' {location: {field: [msg]}} into the seed's details (field, message, location)."""
    location, field_messages = next(iter(messages.items()), ("json", {}))
    if not isinstance(field_messages, dict):
        # The body itself is wrong (not JSON, not an object): there is no field to name.
        field_messages = {"body": field_messages}
    field, message = _first_validation_error(field_messages)
    if field == "_schema":
        field = ""
    return {"field": field, "message": message, "location": location, "errors": messages}


def _rate_limit_details(exc: RateLimitExceeded) -> dict[str, Any]:
    from .extensions import limiter

    item = exc.limit.limit
    current = limiter.current_limit
    reset_at = current.reset_at if current else int(time.time() + item.get_expiry())
    return {
        "limit": item.amount,
        "window_seconds": item.get_expiry(),
        "reset_time": datetime.fromtimestamp(reset_at, UTC).isoformat().replace("+00:00", "Z"),
        "retry_after": max(0, int(reset_at - time.time())),
    }


def render_api_error(exc: APIError):
    """Render a domain error."""
    return jsonify(envelope(exc.message, exc.code, exc.details)), exc.status


def render_http_exception(exc: HTTPException):
    """Render werkzeug/Flask/flask-smorest HTTP errors in the envelope."""
    status = exc.code or 500
    code = HTTP_STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "INVALID_REQUEST")
    details: dict[str, Any] = {}
    message = exc.description or exc.name
    if isinstance(exc, RateLimitExceeded):
        details = _rate_limit_details(exc)
        message = "Rate limit exceeded"
    elif status == 422 or (status == 400 and getattr(exc, "data", {}).get("messages")):
        messages = exc.data.get("messages", {}) if hasattr(exc, "data") else {}
        details = validation_details(messages)
        message = "Invalid request data"
        if details.get("field") == "body":
            message = "Malformed request body"
        status = 400
    elif status == 404:
        message = "Resource not found"
    elif status == 405:
        message = "Method not allowed"
        details = {"allowed": sorted(exc.valid_methods or [])} if hasattr(exc, "valid_methods") else {}
    elif status == 413:
        message = "Request body too large"
        details = {"max_bytes": current_app.config["MAX_CONTENT_LENGTH"]}
    response = jsonify(envelope(message, code, details))
    response.status_code = status
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if isinstance(exc, RateLimitExceeded):
        response.headers["Retry-After"] = str(details["retry_after"])
    return response


def render_unexpected(exc: Exception):
    """Log an unexpected failure with its traceback; the client gets the envelope only."""
    if isinstance(exc, HTTPException):
        return render_http_exception(exc)
    log.exception("Unhandled error while serving a request")
    return jsonify(envelope("Internal server error", "INTERNAL_ERROR")), 500


def register_error_handlers(app: Flask) -> None:
    """Route every error the app can raise through the envelope renderers."""
    app.register_error_handler(APIError, render_api_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Exception, render_unexpected)
