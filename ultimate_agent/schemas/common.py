"""Schemas shared by every API area."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from ..models.base import isoformat


class UTCDateTime(fields.DateTime):
    """A stored (naive UTC) time rendered as ISO 8601 with a Z suffix."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return isoformat(value)


class QuerySchema(Schema):
    """Query strings tolerate unknown parameters (cache busters, tracking)."""

    class Meta:
        unknown = EXCLUDE


class ErrorEnvelopeSchema(Schema):
    """The seed's error body."""

    success = fields.Boolean(metadata={"example": False})
    error = fields.String(metadata={"example": "Task not found"})
    error_code = fields.String(metadata={"example": "TASK_NOT_FOUND"})
    details = fields.Dict()
