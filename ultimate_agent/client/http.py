"""HTTP transport of the SDK: bearer auth, timeouts on every call, retries with exponential backoff."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from .errors import AgentError, ConnectionFailed, error_from_envelope

log = logging.getLogger(__name__)

# Methods that do the same thing when sent twice: a 5xx or a dropped connection may be retried for them.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that say the agent refused before acting: retried for every method, POST included.
REFUSED_STATUSES = frozenset({429, 503})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
STATUS_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED",
                503: "SERVICE_UNAVAILABLE"}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: delay = backoff_factor * 2**(attempt - 1), capped, or Retry-After."""

    retries: int = 3
    backoff_factor: float = 0.5
    max_backoff: float = 30.0
    # A Retry-After longer than this is not slept through: the RateLimited error goes to the caller at once.
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The delay before retry number `attempt` (1-based) when the agent named none."""
        return min(self.max_backoff, self.backoff_factor * 2 ** (attempt - 1))


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: fall back to our own backoff


def _retry_after(response: requests.Response) -> float | None:
    """Seconds the agent asked to wait: Retry-After; on a 429 raised to X-RateLimit-Reset (Retry-After is
    whole seconds, truncated, so it can name a moment just before the window really resets)."""
    waits = [_seconds(response.headers.get("Retry-After"))]
    if response.status_code == 429 and response.headers.get("X-RateLimit-Remaining") == "0":
        reset = _seconds(response.headers.get("X-RateLimit-Reset"))
        waits.append(None if reset is None else reset - time.time())
    known = [wait for wait in waits if wait is not None]
    return max(known) if known else None


def _error_for(response: requests.Response, attempts: int) -> AgentError:
    """The typed error of a failed response, from its envelope or, lacking one, its status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    headers = dict(response.headers)
    if isinstance(body, dict) and body.get("error_code"):
        return error_from_envelope(body, response.status_code, headers, attempts)
    status = response.status_code
    code = STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "INVALID_REQUEST")
    message = (response.text or response.reason or f"HTTP {status}").strip()[:500]
    return error_from_envelope({"success": False, "error": message, "error_code": code, "details": {}},
                               status, headers, attempts)


class Transport:
    """Sends requests to one agent and turns its answers into JSON or typed errors."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float | tuple[float, float] = (5.0, 30.0),
                 retry: RetryPolicy | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._sleep = sleep

    def headers(self) -> dict[str, str]:
        """Headers of every request: the bearer credential when there is one."""
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                timeout: float | tuple[float, float] | None = None, idempotent: bool | None = None,
                raw: bool = False) -> Any:
        """Send one call with retries; returns the parsed JSON (or the text when `raw`), raises AgentError."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        params = {k: v for k, v in (params or {}).items() if v is not None}
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(method, url, json=json, params=params or None,
                                                headers=self.headers(), timeout=timeout or self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if safe and attempt <= self.retry.retries:
                    self._wait(attempt, None, f"{type(exc).__name__}")
                    continue
                raise ConnectionFailed(f"{method} {url}: {exc}", details={"url": url}, attempts=attempt) from exc
            if response.ok:
                if raw:
                    return response.text
                return response.json() if response.content else None
            error = _error_for(response, attempt)
            status = response.status_code
            retryable = status in RETRY_STATUSES and (safe or status in REFUSED_STATUSES)
            if not retryable or attempt > self.retry.retries:
                raise error
            asked = _retry_after(response)
            if asked is not None and asked > self.retry.max_retry_after:
                raise error
            self._wait(attempt, asked, f"HTTP {status} {error.code}")

    def _wait(self, attempt: int, asked: float | None, why: str) -> None:
        # Honour the agent's Retry-After, never below our own backoff; a small margin past the reset second.
        delay = max(self.retry.backoff(attempt), (asked + 0.05) if asked is not None else 0.0)
        log.info("Retry %d/%d after %s in %.2f s", attempt, self.retry.retries, why, delay)
        self._sleep(delay)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()
