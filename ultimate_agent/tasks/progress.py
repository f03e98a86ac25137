"""Progress reporting: writes a task's progress to its record and to Socket.IO, throttled."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask

from ..extensions import db
from ..models import TaskRecord
from ..realtime.bus import AGENT_ROOM, emit_event, task_room

# At most ten progress events a second per task; the last one is always delivered by flush().
MIN_INTERVAL_SECONDS = 0.1
# The record is written at most once a second for progress alone (state changes and the last
# progress are written at once): a commit per event would cost a training loop a few percent.
RECORD_INTERVAL_SECONDS = 1.0


class ProgressReporter:
    """Thread-safe sink for one task's progress and state changes (runners may report from many threads)."""

    def __init__(self, app: Flask, task_id: str, status: str = "running", progress: float = 0.0) -> None:
        self.app = app
        self.task_id = task_id
        self.status = status
        self.percent = progress
        self.details: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._pending = False
        self._last_sent = 0.0
        self._last_written = 0.0
        self._written_status: str | None = None

    def progress(self, percent: float, details: dict[str, Any] | None = None) -> None:
        """Record progress (never backwards); send it now unless one was sent in the last 100 ms."""
        with self._lock:
            self.percent = max(self.percent, min(100.0, float(percent)))
            if details is not None:
                self.details = details
            self._pending = True
            if time.monotonic() - self._last_sent >= MIN_INTERVAL_SECONDS:
                self._send_locked(write=False)

    def state(self, status: str) -> None:
        """A state change (running, paused, ...): always sent and written at once."""
        with self._lock:
            self.status = status
            self._send_locked(write=True)

    def flush(self) -> None:
        """Send and write the last progress if the throttle held it back."""
        with self._lock:
            if self._pending or self._last_written < self._last_sent:
                self._send_locked(write=True)

    def payload(self) -> dict[str, Any]:
        """The `task_progress` event body."""
        return {"task_id": self.task_id, "progress": round(self.percent, 2), "status": self.status,
                "details": self.details}

    def _send_locked(self, write: bool) -> None:
        now = time.monotonic()
        self._pending = False
        self._last_sent = now
        data = self.payload()
        write = write or self.status != self._written_status or now - self._last_written >= RECORD_INTERVAL_SECONDS
        # Own app context: progress may come from a runner's helper threads, which have no session.
        with self.app.app_context():
            if write:
                db.session.execute(
                    db.update(TaskRecord).where(TaskRecord.task_id == self.task_id)
                    .values(progress=data["progress"], details=data["details"], status=self.status)
                )
                db.session.commit()
                self._last_written, self._written_status = now, self.status
            emit_event(self.app, "task_progress", data, rooms=(AGENT_ROOM, task_room(self.task_id)))
