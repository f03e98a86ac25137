"""Schemas for tokens and API keys."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import UTCDateTime

PERMISSION = fields.String(validate=validate.OneOf(["read", "write", "admin"]))


class TokenRequestSchema(Schema):
    """POST /api/auth/token body."""

    agent_id = fields.String(validate=validate.Length(max=128))
    permissions = fields.List(fields.String(validate=validate.OneOf(["read", "write", "admin"])),
                              validate=validate.Length(min=1, max=3))


class TokenResponseSchema(Schema):
    """A minted JWT."""

    token = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    permissions = fields.List(fields.String(), required=True)


class ApiKeyCreateSchema(Schema):
    """POST /api/v4/auth/keys body."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    permissions = fields.List(fields.String(validate=validate.OneOf(["read", "write", "admin"])),
                              required=True, validate=validate.Length(min=1, max=3))


class ApiKeySchema(Schema):
    """An API key as shown (never the secret)."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    permissions = fields.List(fields.String())
    created_at = UTCDateTime()
    last_used_at = UTCDateTime(allow_none=True)
    revoked = fields.Boolean()


class ApiKeyCreatedSchema(ApiKeySchema):
    """A new key: the only time its secret is shown."""

    key = fields.String(required=True)


class ApiKeyListSchema(Schema):
    """All API keys."""

    keys = fields.List(fields.Nested(ApiKeySchema))
