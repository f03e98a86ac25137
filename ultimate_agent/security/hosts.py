"""Host-header allow-list: refuses DNS-rebinding requests to a loopback-bound agent."""

from __future__ import annotations

from flask import Flask, current_app, request

from ..config import LOCAL_HOSTS
from ..errors import InvalidRequest


def host_name(host_header: str) -> str:
    """The host part of a Host header, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_allowed_host(host: str, allowed: list[str]) -> bool:
    """Local names always; configured names exactly, `.example.com` for a domain, `*` for any."""
    if host in LOCAL_HOSTS or "*" in allowed:
        return True
    for entry in allowed:
        entry = entry.lower()
        if host == entry or (entry.startswith(".") and (host.endswith(entry) or host == entry[1:])):
            return True
    return False


def check_host() -> None:
    """Refuse a request whose Host header is not this agent's."""
    host = host_name(request.headers.get("Host", ""))
    if not is_allowed_host(host, current_app.config["ALLOWED_HOSTS"]):
        raise InvalidRequest("Host not allowed", {"host": host, "hint": "add it to ALLOWED_HOSTS"})


def install_host_check(app: Flask) -> None:
    """Register the Host check as the first request hook."""
    app.before_request(check_host)
