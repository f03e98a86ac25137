"""Live agents for the SDK and CLI tests (a pytest plugin of the root conftest): real apps served on loopback.

The SDK speaks real HTTP and Socket.IO, so the Flask test client is not enough: each app is served by
werkzeug's threaded server on a free port, in a background thread of the test process. Clients built
here use Socket.IO long-polling: werkzeug does not answer a WebSocket close frame, so every WebSocket
disconnect would wait 3 s; the subprocess tests (gunicorn) use WebSocket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ultimate_agent.client import UltimateAgentClient


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's signature)
        pass


@dataclass
class LiveAgent:
    """A served app: its URL, its admin key, and SDK clients that are closed after the test."""

    app: Flask
    server: BaseWSGIServer
    clients: list[UltimateAgentClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The agent's base URL."""
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def admin_key(self) -> str:
        """The admin key the agent wrote to its instance folder."""
        return (Path(self.app.instance_path) / "admin_api_key").read_text().strip()

    def client(self, api_key: str | None = None, **options: Any) -> UltimateAgentClient:
        """An SDK client of this agent (admin unless another key is given), with fast test retries."""
        options = {"transports": ("polling",), "backoff_factor": 0.05, **options}
        client = UltimateAgentClient(self.url, api_key or self.admin_key, **options)
        self.clients.append(client)
        return client

    def make_key(self, permissions: list[str], name: str = "test") -> str:
        """A new API key's secret."""
        from ultimate_agent.security.keys import create_key

        with self.app.app_context():
            return create_key(name, permissions, actor="test")[1]


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], LiveAgent]]:
    """Serve apps on loopback; servers and clients stop afterwards."""
    agents: list[LiveAgent] = []

    def start(app: Flask) -> LiveAgent:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=server.serve_forever, args=(0.05,), name="live-agent", daemon=True).start()
        agent = LiveAgent(app, server)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        for client in agent.clients:
            client.close()
        agent.server.shutdown()
        agent.server.server_close()


@pytest.fixture
def live_agent(serve, app_factory) -> LiveAgent:
    """A plain agent (no chain, no models) served on loopback."""
    return serve(app_factory())
