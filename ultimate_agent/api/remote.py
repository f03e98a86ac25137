"""Remote management API: run a command, list the commands, read the audit trail (admin only)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from ..remote import audit
from ..remote.service import remote_service
from ..schemas.remote import (
    AuditListSchema,
    AuditQuerySchema,
    RemoteCapabilitiesSchema,
    RemoteCommandSchema,
    RemoteReplySchema,
)
from ..security import requires
from ..security.auth import current_principal
from ..security.ratelimits import remote_commands
from .routing import api_route

blp = Blueprint("remote", __name__, description="Remote management")


@api_route(blp, "/v4/remote/command", methods=["POST"])
@blp.arguments(RemoteCommandSchema)
@blp.response(200, RemoteReplySchema)
@requires("admin")
@remote_commands
def remote_command(body: dict[str, Any]) -> dict[str, Any]:
    """Run a remote command; a repeated command_id returns the first reply."""
    return remote_service().execute(current_principal(), body, request.remote_addr)


@api_route(blp, "/v4/remote/capabilities")
@blp.response(200, RemoteCapabilitiesSchema)
@requires("admin")
def remote_capabilities() -> dict[str, Any]:
    """Every remote command with its parameter schema."""
    return remote_service().capabilities()


@api_route(blp, "/v4/remote/audit")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditListSchema)
@requires("admin")
def remote_audit(query: dict[str, Any]) -> dict[str, Any]:
    """The audit trail of remote commands, newest first."""
    return audit.list_entries(query["limit"], query["offset"], query["command"], query["success"])
