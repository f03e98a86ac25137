"""Ultimate Agent: a compute-node agent for a decentralised AI network."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["create_app", "__version__"]


def __getattr__(name: str) -> Any:
    """Import `create_app` on first use: the SDK and the CLI's client commands never build an app."""
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
