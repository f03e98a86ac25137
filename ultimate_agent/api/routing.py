"""Version mounts: each endpoint answers on its seed path and under /api/v4/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

LEGACY_VERSIONS = ("/v1/", "/v3/")


def versioned_paths(path: str) -> list[str]:
    """`/stats` -> /api/stats and /api/v4/stats; `/v3/x` -> /api/v3/x and /api/v4/x; `/v4/x` alone."""
    if path.startswith("/v4/"):
        return [f"/api{path}"]
    current = path
    for prefix in LEGACY_VERSIONS:
        if path.startswith(prefix):
            current = "/" + path[len(prefix):]
    return [f"/api{path}", f"/api/v4{current}"]


def api_route(blp: Blueprint, path: str, **options: Any) -> Callable[[Callable], Callable]:
    """Register one view on the seed path and its /api/v4 mirror."""

    def decorator(view: Callable) -> Callable:
        for rule in versioned_paths(path):
            blp.route(rule, **options)(view)
        return view

    return decorator
