"""API key service: create, list, revoke and look up keys by their hash."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from flask import current_app

from ..errors import InvalidRequest, NotFound
from ..extensions import db
from ..models import ApiKey, AuditEntry
from ..models.base import utcnow
from .instance_secrets import new_api_key, read_or_create

PERMISSIONS = ("read", "write", "admin")
ADMIN_KEY_FILE = "admin_api_key"


def hash_key(raw_key: str) -> str:
    """SHA-256 of a key: keys are 256-bit random, so a fast hash is safe and allows indexed lookup."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def normalise_permissions(permissions: list[str]) -> list[str]:
    """Validate permission names and expand the implied ones (admin > write > read)."""
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise InvalidRequest(
            "Unknown permission", {"field": "permissions", "message": f"Unknown: {', '.join(unknown)}"}
        )
    if not permissions:
        raise InvalidRequest("No permissions", {"field": "permissions", "message": "At least one is needed"})
    highest = max(PERMISSIONS.index(p) for p in permissions)
    return list(PERMISSIONS[: highest + 1])


def create_key(name: str, permissions: list[str], actor: str = "cli") -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    raw = new_api_key()
    key = ApiKey(name=name, key_hash=hash_key(raw), prefix=raw[:10], permissions=normalise_permissions(permissions))
    db.session.add(key)
    db.session.flush()
    db.session.add(AuditEntry(actor=actor, action="api_key.create",
                              parameters={"name": name, "permissions": key.permissions, "key_id": key.id}))
    db.session.commit()
    return key, raw


def list_keys() -> list[ApiKey]:
    """All keys, newest first, revoked ones included."""
    return db.session.scalars(db.select(ApiKey).order_by(ApiKey.id.desc())).all()


def revoke_key(key_id: int, actor: str = "cli") -> ApiKey:
    """Revoke a key; tokens minted from it stop working too."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found", {"key_id": key_id})
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.add(AuditEntry(actor=actor, action="api_key.revoke", parameters={"key_id": key_id}))
        db.session.commit()
    return key


def find_active_key(raw_key: str) -> ApiKey | None:
    """The active key matching a presented secret, if any."""
    return db.session.scalar(
        db.select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key), ApiKey.revoked_at.is_(None))
    )


def describe_key(key: ApiKey) -> dict[str, Any]:
    """A key as the API and CLI show it (never the secret)."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "permissions": key.permissions,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked": key.revoked_at is not None,
    }


def ensure_admin_key() -> None:
    """Create the admin key file at first start (unless ADMIN_API_KEY is configured) and its hashed row."""
    if current_app.config.get("ADMIN_API_KEY"):
        return
    path = Path(current_app.instance_path) / ADMIN_KEY_FILE
    raw, created = read_or_create(path, new_api_key)
    digest = hash_key(raw)
    # A row that exists but was revoked stays revoked: the operator chose that.
    if db.session.scalar(db.select(ApiKey.id).where(ApiKey.key_hash == digest)) is None:
        db.session.add(ApiKey(name="admin", key_hash=digest, prefix=raw[:10], permissions=list(PERMISSIONS)))
        db.session.commit()
    if created:
        # Printed once on the console (not through logging) so the operator can copy it.
        print(f"Ultimate Agent admin API key (also in {path}, mode 0600): {raw}", file=sys.stderr)
