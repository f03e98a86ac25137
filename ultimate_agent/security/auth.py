"""Who is calling: API keys and JWTs resolved to a Principal, and the per-request auth gate."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from jwt import PyJWTError

from ..errors import Forbidden, Unauthorized
from ..extensions import db
from ..models import ApiKey
from ..models.base import utcnow
from .keys import PERMISSIONS, find_active_key, hash_key, normalise_permissions

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ENV_ADMIN = "env-admin"
_UNSET = object()


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: which credential, and what it may do."""

    subject: str  # "key:<id>" or "env-admin"
    name: str
    permissions: tuple[str, ...]
    via: str  # "api_key", "jwt" or "trusted_address"

    def can(self, permission: str) -> bool:
        """Whether this caller holds `permission` (admin implies write implies read)."""
        held = max((PERMISSIONS.index(p) for p in self.permissions if p in PERMISSIONS), default=-1)
        return held >= PERMISSIONS.index(permission)


def bearer_token() -> str | None:
    """The token in the Authorization header, if it is a Bearer credential."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _key_principal(key: ApiKey) -> Principal:
    now = utcnow()
    # Touch last_used_at at most once a minute: a write per request would serialise reads on SQLite.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        key.last_used_at = now
        db.session.commit()
    return Principal(subject=f"key:{key.id}", name=key.name, permissions=tuple(key.permissions), via="api_key")


def _jwt_principal(token: str) -> Principal | None:
    try:
        claims = decode_token(token)
    except (PyJWTError, ValueError, KeyError):
        return None
    subject = claims.get("sub", "")
    permissions = tuple(claims.get("permissions", ()))
    if subject == ENV_ADMIN:
        if not current_app.config.get("ADMIN_API_KEY"):
            return None
        return Principal(subject=subject, name="admin", permissions=permissions, via="jwt")
    if not subject.startswith("key:"):
        return None
    key = db.session.get(ApiKey, int(subject.split(":", 1)[1]))
    if key is None or not key.active:  # a revoked key's tokens die with it
        return None
    allowed = [p for p in permissions if p in key.permissions]
    return Principal(subject=subject, name=key.name, permissions=tuple(allowed), via="jwt")


def authenticate(token: str) -> Principal | None:
    """Resolve an API key or a JWT to a Principal; None when it is not valid."""
    if token.count(".") == 2:
        return _jwt_principal(token)
    configured = current_app.config.get("ADMIN_API_KEY")
    digest = hash_key(token)
    if configured and hmac.compare_digest(digest, hash_key(configured)):
        return Principal(subject=ENV_ADMIN, name="admin", permissions=PERMISSIONS, via="api_key")
    return current_app.extensions["key_cache"].get(digest, lambda: _lookup_key(token))


def _lookup_key(token: str) -> Principal | None:
    key = find_active_key(token)
    return _key_principal(key) if key else None


def current_principal() -> Principal | None:
    """The caller of this request, resolved once and cached on `g`."""
    cached = g.get("_principal", _UNSET)
    if cached is _UNSET:
        token = bearer_token()
        cached = authenticate(token) if token else trusted_node_principal()
        g._principal = cached
    return cached


def trusted_node_principal() -> Principal | None:
    """A caller without a token from a TRUSTED_NODE_ADDRESSES address: the network node, which may only read."""
    trusted = current_app.config.get("TRUSTED_NODE_ADDRESSES")
    if not trusted or not request.remote_addr:
        return None
    try:
        address = ipaddress.ip_address(request.remote_addr)
    except ValueError:
        return None
    # remote_addr is the TCP peer: behind a proxy that is the proxy, so list the node only without one.
    if not any(address in ipaddress.ip_network(entry, strict=False) for entry in trusted):
        return None
    return Principal(subject=f"node:{address}", name="network node", permissions=("read",), via="trusted_address")


def rate_limit_identity() -> str:
    """Rate-limit bucket: the credential when valid, else the client address."""
    principal = current_principal()
    if principal is not None:
        return principal.subject
    return f"ip:{request.remote_addr or 'unknown'}"


def mint_token(principal: Principal, requested: list[str] | None, client_id: str | None) -> dict[str, Any]:
    """Mint a JWT carrying at most the caller's own permissions."""
    if principal.via == "trusted_address":
        raise Forbidden("A trusted node address holds no credential to mint a token from")
    wanted = normalise_permissions(requested) if requested else list(principal.permissions)
    excess = [p for p in wanted if not principal.can(p)]
    if excess:
        raise Forbidden("Cannot grant permissions the caller does not hold", {"permissions": excess})
    expires = current_app.config["JWT_EXPIRES_SECONDS"]
    claims = {"permissions": wanted}
    if client_id:
        claims["client_id"] = client_id
    token = create_access_token(identity=principal.subject, additional_claims=claims,
                                expires_delta=timedelta(seconds=expires))
    return {"token": token, "expires_in": expires, "permissions": wanted}


def requires(permission: str) -> Callable[[F], F]:
    """Mark a view as needing `permission` (checked by the auth gate before the view runs)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def mark(view: F) -> F:
        view._required_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Mark a view as open to anonymous callers."""
    view._public = True  # type: ignore[attr-defined]
    return view


def enforce_auth() -> None:
    """Auth gate: every /api view (and any view marked with `requires`) needs a valid credential."""
    if request.method == "OPTIONS" or request.endpoint is None:
        return  # CORS preflight, or an unknown route that will 404
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "_public", False):
        return
    required = getattr(view, "_required_permission", None)
    if required is None and not request.path.startswith("/api"):
        return
    principal = current_principal()
    if principal is None:
        message = "Invalid or expired credentials" if bearer_token() else "Authentication required"
        raise Unauthorized(message, {"hint": "Send 'Authorization: Bearer <api key or token>'"})
    required = required or ("read" if request.method in SAFE_METHODS else "write")
    if not principal.can(required):
        raise Forbidden("Insufficient permissions", {"required": required})


def install_auth(app: Flask) -> None:
    """Register the auth gate (after the rate limiter, so anonymous floods are limited by address)."""
    app.before_request(enforce_auth)
