"""The network node client: registration, heartbeats and task assignments."""

from __future__ import annotations

from flask import Flask

from .client import NodeClient


def start_network_client(app: Flask) -> NodeClient | None:
    """Create the app's node client, hook it to the task manager and start its thread; None when standalone."""
    if not app.config["NODE_URL"]:
        return None
    client = NodeClient(app)
    app.extensions["network_client"] = client
    manager = app.extensions.get("task_manager")
    if manager is not None:
        manager.hooks.end.append(client.assignments.on_task_end)
    client.start()
    return client


__all__ = ["NodeClient", "start_network_client"]
