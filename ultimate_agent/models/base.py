"""Shared column helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no time zone, so every stored time is UTC by convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    """Render a stored (naive UTC) time as ISO 8601 with a Z suffix."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds") + "Z"
