"""Socket.IO `remote_command`: the same commands, permissions, budget and audit as the HTTP endpoint."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_socketio import emit

from ..errors import APIError, Forbidden, Unauthorized, envelope
from ..extensions import socketio
from ..remote.service import remote_service
from ..security.ratelimits import spend_remote_budget


@socketio.on("remote_command")
def on_remote_command(data: Any = None) -> None:
    """Run a remote command and reply with `remote_command_response` (the HTTP reply's body)."""
    command_id = data.get("command_id") if isinstance(data, dict) else None
    try:
        connection = current_app.extensions["socket_connections"].get(request.sid)
        if connection is None:
            raise Unauthorized()
        principal = connection.principal
        if not principal.can("admin"):
            raise Forbidden("Insufficient permissions", {"required": "admin"})
        spend_remote_budget(principal.subject)
        service = remote_service()
        reply = service.execute(principal, service.parse(data), request.remote_addr)
    except APIError as exc:
        reply = {**envelope(exc.message, exc.code, exc.details), "command_id": command_id}
    emit("remote_command_response", reply)
