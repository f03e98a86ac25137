"""RemoteService: runs a remote command once per command_id, turns outcomes into replies, audits each."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from flask import Flask, current_app
from marshmallow import Schema, ValidationError, fields, validate

from ..errors import APIError, Conflict, Forbidden, InvalidRequest, ServiceUnavailable, _first_validation_error
from ..extensions import db
from ..security.auth import Principal
from . import audit
from .registry import CommandRegistry, build_registry

log = logging.getLogger(__name__)
COMMAND_ID = validate.Regexp(r"^[A-Za-z0-9._:-]{1,128}$", error="1-128 letters, digits, '.', '_', ':' or '-'")


class RemoteCommandSchema(Schema):
    """A remote command request (HTTP body and Socket.IO payload alike)."""

    command_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    parameters = fields.Dict(keys=fields.String(), load_default=dict)
    command_id = fields.String(load_default=None, allow_none=True, validate=COMMAND_ID,
                               metadata={"description": "Echoed; a repeated id returns the first result"})


def actor_of(principal: Principal) -> str:
    """How the audit trail names a caller."""
    return f"{principal.subject} ({principal.name})"


def invalid_parameters(exc: ValidationError, location: str = "parameters") -> InvalidRequest:
    """A 400 naming the first bad field of a marshmallow error."""
    field, message = _first_validation_error(exc.messages)
    field = "" if field == "_schema" else field
    prefix = f"{location}." if location and field else location
    return InvalidRequest("Invalid command parameters" if location == "parameters" else "Invalid request data",
                          {"field": f"{prefix}{field}", "message": message, "location": location,
                           "errors": exc.messages})


class RemoteService:
    """Executes remote commands from any channel: validation, idempotency, outcome and audit."""

    def __init__(self, app: Flask, registry: CommandRegistry | None = None) -> None:
        self.app = app
        self.registry = registry or build_registry()
        self._lock = threading.Lock()
        self._in_flight: dict[str, threading.Event] = {}

    def parse(self, body: Any) -> dict[str, Any]:
        """Validate a raw request body (Socket.IO payloads; HTTP bodies are parsed by the view's schema)."""
        if not isinstance(body, dict):
            raise InvalidRequest("Malformed request body", {"field": "body", "message": "Expected an object"})
        try:
            return RemoteCommandSchema().load(body)
        except ValidationError as exc:
            raise invalid_parameters(exc, location="") from exc

    def capabilities(self) -> dict[str, Any]:
        """Every command name with its description, permission and parameter schema."""
        names = self.registry.names()
        return {"commands": names, "details": {name: self.registry.get(name).describe() for name in names}}

    def execute(self, principal: Principal, request: dict[str, Any], remote_addr: str | None) -> dict[str, Any]:
        """Run one parsed command request; a repeated command_id returns the first reply."""
        command = self.registry.get(request["command_type"])
        if not principal.can(command.permission):
            raise Forbidden("Insufficient permissions", {"required": command.permission})
        command_id = request.get("command_id") or f"cmd-{uuid.uuid4().hex[:16]}"
        while True:
            replayed = self._replay(command_id, command.name)
            if replayed is not None:
                return replayed
            with self._lock:
                running = self._in_flight.get(command_id)
                if running is None:
                    self._in_flight[command_id] = threading.Event()
                    break
            # The same id is running on another thread: wait for its reply instead of running twice.
            running.wait()
        try:
            return self._run(principal, command.name, command_id, request.get("parameters") or {}, remote_addr)
        finally:
            with self._lock:
                self._in_flight.pop(command_id).set()

    def _replay(self, command_id: str, command: str) -> dict[str, Any] | None:
        found = audit.first_reply(command_id)
        if found is None:
            return None
        first_command, reply = found
        if first_command != command:
            raise Conflict("command_id was already used for another command",
                           {"field": "command_id", "command_id": command_id, "command_type": first_command})
        return {**reply, "replayed": True}

    def _run(self, principal: Principal, name: str, command_id: str, raw: dict[str, Any],
             remote_addr: str | None) -> dict[str, Any]:
        command = self.registry.get(name)
        started = time.perf_counter()
        actor = actor_of(principal)
        try:
            params = command.params().load(raw)
        except ValidationError as exc:
            error = invalid_parameters(exc)
            audit.record(actor, name, command_id, raw, False, None, f"{error.message}: {error.details['field']}",
                         (time.perf_counter() - started) * 1000, remote_addr)
            raise error from exc
        try:
            result = command.handler(self.app, params)
            reply: dict[str, Any] = {"success": True, "command_id": command_id, "result": result}
        except InvalidRequest as exc:
            # A value the schema could not judge alone (a task's config): still the caller's mistake.
            audit.record(actor, name, command_id, params, False, None, exc.message,
                         (time.perf_counter() - started) * 1000, remote_addr)
            raise
        except APIError as exc:
            reply = {"success": False, "command_id": command_id, "error": exc.message, "error_code": exc.code,
                     "details": exc.details}
        except Exception as exc:
            log.exception("Remote command %s (%s) failed", name, command_id)
            db.session.rollback()  # the audit row below must not inherit a half-done transaction
            reply = {"success": False, "command_id": command_id, "error": f"{type(exc).__name__}: {exc}",
                     "error_code": "COMMAND_FAILED", "details": {}}
        reply = audit.json_safe(reply)
        duration_ms = (time.perf_counter() - started) * 1000
        audit.record(actor, name, command_id, params, reply["success"], reply, reply.get("error"), duration_ms,
                     remote_addr)
        log.info("Remote command %s (%s) by %s: %s in %.0f ms", name, command_id, actor,
                 "ok" if reply["success"] else f"failed ({reply.get('error')})", duration_ms)
        return reply


def remote_service() -> RemoteService:
    """The running app's remote service."""
    service = current_app.extensions.get("remote_service")
    if service is None:
        raise ServiceUnavailable("Remote management is not running")
    return service
