"""Socket.IO handlers: authenticated connect, stats and live-data requests."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from ..extensions import socketio
from ..monitoring import status
from ..security.auth import authenticate, bearer_token
from . import remote as _remote  # noqa: F401  (registers the remote_command handler)
from .bus import AGENT_ROOM, task_room


def _metrics():
    return current_app.extensions["agent_metrics"]


def _refuse(reason: str, message: str) -> None:
    _metrics().socket_refused.labels(reason=reason).inc()
    raise ConnectionRefusedError(message)


def _token_from(auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    return bearer_token()


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Accept a client that presents a valid token, within the per-address cap."""
    token = _token_from(auth)
    principal = authenticate(token) if token else None
    if principal is None:
        _refuse("unauthorized", "unauthorized: pass auth={'token': <api key or JWT>}")
    connections = current_app.extensions["socket_connections"]
    if not connections.add(request.sid, request.remote_addr or "unknown", principal):
        _refuse("too_many", "too many connections from this address")
    _metrics().socket_connections.set(connections.count())
    join_room(AGENT_ROOM)
    emit("connected", {
        "agent_id": current_app.config["AGENT_ID"],
        "sid": request.sid,
        "permissions": list(principal.permissions),
        "server_time": status.now_iso(),
    })


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Release the client's slot."""
    connections = current_app.extensions["socket_connections"]
    connections.remove(request.sid)
    _metrics().socket_connections.set(connections.count())


@socketio.on("request_stats")
def on_request_stats(_data: Any = None) -> None:
    """Reply with `stats_update`."""
    emit("stats_update", status.stats())


@socketio.on("request_enhanced_stats")
def on_request_enhanced_stats(_data: Any = None) -> None:
    """Reply with `enhanced_stats_update`."""
    emit("enhanced_stats_update", status.enhanced_stats())


@socketio.on("request_real_time_data")
def on_request_real_time_data(_data: Any = None) -> None:
    """Reply with `real_time_data`."""
    emit("real_time_data", status.real_time_data())


@socketio.on("subscribe_task")
def on_subscribe_task(data: Any = None) -> None:
    """Join room `task:<id>` to receive only that task's events."""
    task_id = data.get("task_id") if isinstance(data, dict) else None
    if not isinstance(task_id, str) or not task_id:
        emit("error", {"success": False, "error": "task_id is required", "error_code": "INVALID_REQUEST",
                       "details": {"field": "task_id"}})
        return
    join_room(task_room(task_id))
    emit("subscribed", {"task_id": task_id, "room": task_room(task_id)})


@socketio.on("unsubscribe_task")
def on_unsubscribe_task(data: Any = None) -> None:
    """Leave a task's room."""
    task_id = data.get("task_id") if isinstance(data, dict) else None
    if isinstance(task_id, str) and task_id:
        leave_room(task_room(task_id))
