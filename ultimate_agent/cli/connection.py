"""The SDK client the CLI's agent commands use, built from the global --url / --api-key / --timeout."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..client import UltimateAgentClient


def agent_client() -> UltimateAgentClient:
    """This invocation's client (one per command line; closed when the command ends)."""
    from ..client import UltimateAgentClient

    root = click.get_current_context().find_root()
    root.ensure_object(dict)
    client = root.obj.get("client")
    if client is None:
        params = root.params
        transport = params.get("socket_transport", "auto")
        client = UltimateAgentClient(params["url"], params["api_key"], timeout=(5.0, params["timeout"]),
                                     retries=params.get("retries", 3),
                                     transports=None if transport == "auto" else (transport,))
        root.obj["client"] = client
        root.call_on_close(client.close)
    return client
