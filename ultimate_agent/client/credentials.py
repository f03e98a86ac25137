"""Which API key the SDK and CLI use: the argument, the environment, or the local agent's admin key file."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

API_KEY_ENV = "ULTIMATE_AGENT_API_KEY"
URL_ENV = "ULTIMATE_AGENT_URL"
INSTANCE_PATH_ENV = "ULTIMATE_AGENT_INSTANCE_PATH"
ADMIN_KEY_ENV = "ULTIMATE_AGENT_ADMIN_API_KEY"
DEFAULT_URL = "http://localhost:8080"


def is_local_url(base_url: str) -> bool:
    """Whether the URL points at this machine (localhost or a loopback address)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_instance_path() -> Path:
    """The instance folder a local agent uses: $ULTIMATE_AGENT_INSTANCE_PATH, else Flask's default for the package."""
    if os.environ.get(INSTANCE_PATH_ENV):
        return Path(os.environ[INSTANCE_PATH_ENV]).resolve()
    # Deferred: only this fallback needs Flask, to compute the same default folder the agent does.
    from flask import Flask

    return Path(Flask("ultimate_agent").instance_path)


def resolve_api_key(api_key: str | None, base_url: str) -> str | None:
    """The key to send: argument, else $ULTIMATE_AGENT_API_KEY, else (local agent only) its admin key."""
    if api_key:
        return api_key
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV].strip()
    if not is_local_url(base_url):
        return None  # never hand this machine's admin key to another host
    if os.environ.get(ADMIN_KEY_ENV):
        return os.environ[ADMIN_KEY_ENV].strip()
    key_file = local_instance_path() / "admin_api_key"
    try:
        return key_file.read_text().strip() or None
    except OSError:
        return None
