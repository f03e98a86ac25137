"""Schemas for the remote management endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..remote.service import RemoteCommandSchema
from .common import QuerySchema

__all__ = ["AuditListSchema", "AuditQuerySchema", "RemoteCapabilitiesSchema", "RemoteCommandSchema",
           "RemoteReplySchema"]


class RemoteReplySchema(Schema):
    """A remote command's reply: its result, or why it could not act."""

    success = fields.Boolean()
    command_id = fields.String()
    result = fields.Raw(metadata={"description": "What the command did (on success)"})
    error = fields.String(metadata={"description": "Why the command could not act"})
    error_code = fields.String()
    details = fields.Dict()
    replayed = fields.Boolean(metadata={"description": "True when this is the stored reply of an earlier run"})


class RemoteCapabilitiesSchema(Schema):
    """GET /api/v4/remote/capabilities."""

    commands = fields.List(fields.String())
    details = fields.Dict(metadata={"description": "Per command: description, permission, parameter schema"})


class AuditQuerySchema(QuerySchema):
    """GET /api/v4/remote/audit query."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    command = fields.String(load_default=None, validate=validate.Length(max=64))
    success = fields.Boolean(load_default=None, allow_none=True)


class AuditEntrySchema(Schema):
    """One audited remote command."""

    id = fields.Integer()
    timestamp = fields.String()
    actor = fields.String()
    command = fields.String()
    command_id = fields.String(allow_none=True)
    parameters = fields.Dict(allow_none=True)
    success = fields.Boolean()
    error = fields.String(allow_none=True)
    outcome = fields.Dict(allow_none=True)
    duration_ms = fields.Float(allow_none=True)
    remote_addr = fields.String(allow_none=True)


class AuditListSchema(Schema):
    """A page of the audit trail, newest first."""

    entries = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
