"""Audit trail of remote commands: redaction of secrets, writing rows and listing them."""

from __future__ import annotations

import json
import re
from typing import Any

from ..extensions import db
from ..models import AuditEntry
from ..models.base import isoformat

ACTION_PREFIX = "remote."
REDACTED = "***"
# Key names whose values are secrets wherever they appear (parameters, config documents, results).
SECRET_KEY_PATTERN = re.compile(r"(secret|passw|token|api_?key|private|mnemonic|credential|keystore_pass)",
                                re.IGNORECASE)
# user:password@ inside a URL (database URIs, node URLs).
URL_PASSWORD_PATTERN = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s/]+@", re.IGNORECASE)


def redact(value: Any) -> Any:
    """A copy of `value` with secret-named keys masked and URL passwords removed."""
    if isinstance(value, dict):
        return {key: REDACTED if isinstance(key, str) and SECRET_KEY_PATTERN.search(key) and item not in (None, "")
                else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return URL_PASSWORD_PATTERN.sub(lambda m: f"{m.group('head')}{REDACTED}@", value)
    return value


def json_safe(value: Any) -> Any:
    """`value` as plain JSON types (paths, times and the like become strings)."""
    return json.loads(json.dumps(value, default=str))


def record(actor: str, command: str, command_id: str, parameters: dict[str, Any] | None, success: bool,
           outcome: dict[str, Any] | None, error: str | None, duration_ms: float,
           remote_addr: str | None) -> AuditEntry:
    """Write one audit row (parameters and outcome redacted) and commit it."""
    entry = AuditEntry(actor=actor[:128], action=f"{ACTION_PREFIX}{command}"[:64], command_id=command_id,
                       parameters=redact(json_safe(parameters or {})), success=success,
                       outcome=redact(outcome) if outcome is not None else None, error=error,
                       duration_ms=round(duration_ms, 3), remote_addr=(remote_addr or "")[:64] or None)
    db.session.add(entry)
    db.session.commit()
    return entry


def first_reply(command_id: str) -> tuple[str, dict[str, Any]] | None:
    """(command, reply) of the first executed command with this id, if any."""
    rows = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.command_id == command_id,
                                    AuditEntry.action.startswith(ACTION_PREFIX))
        .order_by(AuditEntry.id)
    ).all()
    for row in rows:
        # Rejected requests (bad parameters, refused) have no reply and did not run.
        if row.outcome is not None:
            return row.action.removeprefix(ACTION_PREFIX), row.outcome
    return None


def list_entries(limit: int, offset: int, command: str | None = None,
                 success: bool | None = None) -> dict[str, Any]:
    """A page of remote-command audit rows, newest first, with the total."""
    query = db.select(AuditEntry).where(AuditEntry.action.startswith(ACTION_PREFIX))
    if command:
        query = query.where(AuditEntry.action == f"{ACTION_PREFIX}{command}")
    if success is not None:
        query = query.where(AuditEntry.success.is_(success))
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return {"entries": [describe(row) for row in rows], "total": total or 0, "limit": limit, "offset": offset}


def describe(row: AuditEntry) -> dict[str, Any]:
    """One audit row as the API shows it."""
    return {
        "id": row.id,
        "timestamp": isoformat(row.timestamp),
        "actor": row.actor,
        "command": row.action.removeprefix(ACTION_PREFIX),
        "command_id": row.command_id,
        "parameters": row.parameters,
        "success": row.success,
        "error": row.error,
        "outcome": row.outcome,
        "duration_ms": row.duration_ms,
        "remote_addr": row.remote_addr,
    }
