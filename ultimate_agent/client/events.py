"""Live events over Socket.IO (python-socketio) and waiting for a task to finish."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import socketio

from .errors import ConnectionFailed, TaskWaitTimeout, Unauthorized

if TYPE_CHECKING:
    from .agent_client import UltimateAgentClient

log = logging.getLogger(__name__)

FINAL_STATES = frozenset({"completed", "failed", "cancelled"})
Handler = Callable[[Any], None]


class EventStream:
    """One authenticated Socket.IO connection; handlers per event name, added and removed at any time."""

    def __init__(self, base_url: str, token: str | None, transports: Sequence[str] | None = None,
                 connect_timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.transports = list(transports) if transports else None
        self.connect_timeout = connect_timeout
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.RLock()
        self._sio: socketio.Client | None = None

    @property
    def connected(self) -> bool:
        """Whether the socket is up now."""
        return self._sio is not None and self._sio.connected

    def connect(self) -> None:
        """Open the connection (once); the agent refuses it without a valid token."""
        with self._lock:
            if self._sio is not None:
                return
            sio = socketio.Client(reconnection=True, logger=False, engineio_logger=False)
            # One catch-all: handlers live in our table, so they can change while the socket stays up.
            sio.on("*", self._dispatch)
            refusals: list[Any] = []
            # The agent's reason for a refusal arrives as connect_error; the exception only says "failed".
            sio.on("connect_error", refusals.append)
            try:
                sio.connect(self.base_url, auth={"token": self.token or ""}, transports=self.transports,
                            wait_timeout=self.connect_timeout)
            except socketio.exceptions.ConnectionError as exc:
                reason = str(exc)
                if refusals:
                    data = refusals[-1]
                    reason = str(data.get("message", data) if isinstance(data, dict) else data)
                if "unauthorized" in reason.lower():
                    raise Unauthorized(f"Socket.IO connection refused: {reason}") from exc
                raise ConnectionFailed(f"Socket.IO connection to {self.base_url} failed: {reason}",
                                       details={"url": self.base_url}) from exc
            self._sio = sio

    def _dispatch(self, event: str, data: Any = None) -> None:
        with self._lock:
            handlers = list(self._handlers.get(event, ()))
        for handler in handlers:
            try:
                handler(data)
            except Exception:  # a faulty callback must not kill the socket's thread
                log.exception("Handler for %s failed", event)

    def on(self, event: str, handler: Handler) -> Handler:
        """Call `handler(data)` for every `event`; connects if needed. Returns the handler (for off)."""
        with self._lock:
            self._handlers.setdefault(event, []).append(handler)
        self.connect()
        return handler

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Remove one handler, or all handlers of `event`."""
        with self._lock:
            handlers = self._handlers.get(event, [])
            if handler is None:
                handlers.clear()
            elif handler in handlers:
                handlers.remove(handler)

    def emit(self, event: str, data: Any = None) -> None:
        """Send an event to the agent (e.g. `request_stats`, `remote_command`)."""
        self.connect()
        assert self._sio is not None
        self._sio.emit(event, data)

    def close(self) -> None:
        """Disconnect."""
        with self._lock:
            sio, self._sio = self._sio, None
        if sio is not None:
            sio.disconnect()


def wait_for_task(client: UltimateAgentClient, task_id: str, on_progress: Handler | None = None,
                  timeout: float | None = None, poll_interval: float = 5.0) -> dict[str, Any]:
    """Block until the task is completed, failed or cancelled; returns its final record.

    Progress comes from `task_progress` events; the record is also re-read every `poll_interval`
    seconds, so a missed event (a reconnect) delays the answer but never loses it.
    """
    changed = threading.Event()

    def progress(data: Any) -> None:
        if not isinstance(data, dict) or data.get("task_id") != task_id:
            return
        if on_progress is not None:
            on_progress(data)
        if data.get("status") in FINAL_STATES:
            changed.set()

    def completed(data: Any) -> None:
        if isinstance(data, dict) and data.get("task_id") == task_id:
            changed.set()

    stream = client.events
    # Listen before the first read: an end between the read and the subscription cannot be missed.
    stream.on("task_progress", progress)
    stream.on("task_completed", completed)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        record = client.get_task(task_id)
        while record.get("status") not in FINAL_STATES:
            remaining = poll_interval if deadline is None else min(poll_interval, deadline - time.monotonic())
            if remaining <= 0:
                raise TaskWaitTimeout(f"Task {task_id} still {record.get('status')} after {timeout} s",
                                      details={"task_id": task_id, "last": record})
            changed.wait(remaining)
            changed.clear()
            record = client.get_task(task_id)
        return record
    finally:
        stream.off("task_progress", progress)
        stream.off("task_completed", completed)
