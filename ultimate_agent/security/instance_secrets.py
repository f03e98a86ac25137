"""Secrets kept as 0600 files in the instance folder, created once at first start."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

SECRET_FILE_MODE = 0o600


def read_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """Return (value, created): read the file, or create it atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        # O_EXCL: two processes starting at once cannot both write a different secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, SECRET_FILE_MODE)
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, False
        path.write_text(value, encoding="utf-8")
        return value, True
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value, True


def new_agent_id() -> str:
    """A stable agent identity: `ultimate-` and 8 hex digits."""
    return f"ultimate-{secrets.token_hex(4)}"


def new_api_key() -> str:
    """A fresh high-entropy API key."""
    return f"ua_{secrets.token_urlsafe(32)}"


def load_instance_secrets(instance_path: str) -> dict[str, str]:
    """Load (or create) the secret key, JWT signing key and agent id of this instance."""
    folder = Path(instance_path)
    secret_key, _ = read_or_create(folder / "secret_key", lambda: secrets.token_hex(32))
    jwt_key, _ = read_or_create(folder / "jwt_secret_key", lambda: secrets.token_hex(32))
    agent_id, _ = read_or_create(folder / "agent_id", new_agent_id)
    return {"SECRET_KEY": secret_key, "JWT_SECRET_KEY": jwt_key, "AGENT_ID": agent_id}
