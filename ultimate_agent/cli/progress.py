"""A live progress line for a task, fed by its Socket.IO `task_progress` events."""

from __future__ import annotations

import sys
import threading
from typing import IO, Any

import click

from .output import format_value

BAR_WIDTH = 24
# Detail keys shown first when present; the rest follow in the runner's order.
PREFERRED = ("phase", "epoch", "total_epochs", "training_loss", "validation_loss", "accuracy", "loss")


def describe_details(details: dict[str, Any] | None, limit: int = 6) -> str:
    """The task's details as `k=v` pairs, the informative keys first."""
    if not details:
        return ""
    keys = [k for k in PREFERRED if k in details] + [k for k in details if k not in PREFERRED]
    return " ".join(f"{key}={format_value(details[key])}" for key in keys[:limit])


def render(progress: float, status: str, details: dict[str, Any] | None) -> str:
    """`[#########---------]  45.0% running  epoch=3 ...`."""
    filled = int(round(BAR_WIDTH * max(0.0, min(progress, 100.0)) / 100))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return f"[{bar}] {progress:5.1f}% {status:<9} {describe_details(details)}".rstrip()


class ProgressLine:
    """Draws progress on stderr: one line redrawn in place on a terminal, a line per step otherwise."""

    def __init__(self, task_id: str, stream: IO[str] | None = None) -> None:
        self.task_id = task_id
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._lock = threading.Lock()
        self._last: tuple[int, str] | None = None
        self._width = 0

    def update(self, event: dict[str, Any]) -> None:
        """Show one `task_progress` event (called from the socket's thread)."""
        progress = float(event.get("progress") or 0.0)
        status = str(event.get("status") or "")
        line = render(progress, status, event.get("details"))
        with self._lock:
            step = (int(progress), status)
            if not self.tty:
                # A log, not an animation: one line per whole percent or status change.
                if step == self._last:
                    return
                click.echo(line, file=self.stream)
            else:
                click.echo("\r" + line.ljust(self._width), file=self.stream, nl=False)
                self._width = len(line)
            self._last = step

    def finish(self) -> None:
        """End the redrawn line so later output starts on its own line."""
        with self._lock:
            if self.tty and self._width:
                click.echo("", file=self.stream)
