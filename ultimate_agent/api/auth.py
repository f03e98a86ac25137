"""Auth API: mint tokens, manage API keys."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..schemas.auth import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyListSchema,
    ApiKeySchema,
    TokenRequestSchema,
    TokenResponseSchema,
)
from ..security import current_principal, requires
from ..security.auth import mint_token
from ..security.keys import create_key, describe_key, list_keys, revoke_key
from .routing import api_route

blp = Blueprint("auth", __name__, description="Tokens and API keys")


@api_route(blp, "/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenResponseSchema)
@requires("read")
def issue_token(body: dict[str, Any]) -> dict[str, Any]:
    """Mint a JWT with at most the caller's permissions (expires in JWT_EXPIRES_SECONDS)."""
    return mint_token(current_principal(), body.get("permissions"), body.get("agent_id"))


@api_route(blp, "/auth/keys", methods=["GET"])
@blp.response(200, ApiKeyListSchema)
@requires("admin")
def get_keys() -> dict[str, Any]:
    """List API keys (admin)."""
    return {"keys": [describe_key(key) for key in list_keys()]}


@api_route(blp, "/auth/keys", methods=["POST"])
@blp.arguments(ApiKeyCreateSchema)
@blp.response(201, ApiKeyCreatedSchema)
@requires("admin")
def post_key(body: dict[str, Any]) -> dict[str, Any]:
    """Create an API key (admin); its secret is returned only in this reply."""
    key, raw = create_key(body["name"], body["permissions"], actor=current_principal().subject)
    return {**describe_key(key), "key": raw}


@api_route(blp, "/auth/keys/<int:key_id>", methods=["DELETE"])
@blp.response(200, ApiKeySchema)
@requires("admin")
def delete_key(key_id: int) -> dict[str, Any]:
    """Revoke an API key (admin); tokens minted from it stop working."""
    return describe_key(revoke_key(key_id, actor=current_principal().subject))
