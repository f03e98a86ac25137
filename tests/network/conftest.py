"""Fixtures for the network client: stand-in nodes on loopback and agents connected to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from ultimate_agent.network import NodeClient, start_network_client

from .standin_node import StandInNode

# Intervals short enough that a test sees several heartbeats and retries in a second or two.
FAST = {"NODE_HEARTBEAT_INTERVAL": 0.2, "NODE_HEARTBEAT_MIN_INTERVAL": 0.05, "NODE_BACKOFF_INITIAL": 0.1,
        "NODE_BACKOFF_MAX": 0.8, "NODE_REQUEST_TIMEOUT": 3.0}


@pytest.fixture
def standin_nodes() -> Iterator[Callable[..., StandInNode]]:
    """Start stand-in nodes; all are stopped afterwards."""
    nodes: list[StandInNode] = []

    def start(**options: Any) -> StandInNode:
        node = StandInNode(**options).start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()


@pytest.fixture
def node(standin_nodes) -> StandInNode:
    """A stand-in node that asks for a heartbeat every 0.2 s."""
    return standin_nodes(next_heartbeat=0.2)


@pytest.fixture
def connect_agent(app_factory) -> Iterator[Callable[..., tuple[Flask, NodeClient]]]:
    """Build an agent pointed at a node URL and start its network client; the clients stop afterwards."""
    clients: list[NodeClient] = []

    def connect(node_url: str, **config: Any) -> tuple[Flask, NodeClient]:
        app = app_factory(NODE_URL=node_url, **{**FAST, **config})
        client = start_network_client(app)
        assert client is not None
        clients.append(client)
        return app, client

    yield connect
    for client in clients:
        client.stop(timeout=5)


def wait_registered(node: StandInNode, client: NodeClient, timeout: float = 10.0) -> None:
    """Wait until the agent is registered and in its room on the node."""
    node.wait_for(lambda: client.status()["registered"] and client.status()["assignments_connected"], timeout)
