"""Event bus: carries events from any thread to Socket.IO rooms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask

from ..extensions import socketio

AGENT_ROOM = "agent"


def task_room(task_id: str) -> str:
    """The room that receives one task's events."""
    return f"task:{task_id}"


def emit_event(app: Flask, event: str, data: dict[str, Any], rooms: Iterable[str] = (AGENT_ROOM,)) -> None:
    """Emit `event` to each room and count it."""
    for room in rooms:
        socketio.emit(event, data, to=room)
    metrics = app.extensions.get("agent_metrics")
    if metrics is not None:
        metrics.socket_events.labels(event=event).inc()
