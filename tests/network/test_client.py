"""NodeClient against a stand-in node: registration fallback, heartbeats, re-registration, backoff, stop."""

from __future__ import annotations

import logging
import time

import pytest
from agent_support import admin_key_of

from ultimate_agent.network import start_network_client

from .conftest import FAST, wait_registered
from .standin_node import StandInNode, free_port

REGISTER = {"v4": "/api/v4/agents/register", "v3": "/api/v3/agents/register", "legacy": "/api/agents/register"}
HEARTBEAT = {"v4": "/api/v4/agents/heartbeat", "v3": "/api/v3/agents/heartbeat", "legacy": "/api/agents/heartbeat"}


@pytest.mark.parametrize(("offered", "tried"), [
    (("v4", "v3", "legacy"), ["v4"]),
    (("v3", "legacy"), ["v4", "v3"]),
    (("legacy",), ["v4", "v3", "legacy"]),
])
def test_registration_falls_back_v4_v3_legacy_and_heartbeats_on_the_accepted_version(
        standin_nodes, connect_agent, offered, tried):
    node = standin_nodes(versions=offered, next_heartbeat=0.1)
    app, client = connect_agent(node.url)
    node.wait_for(lambda: node.requests_to("/heartbeat"))

    accepted = tried[-1]
    first_heartbeat = node.paths().index(HEARTBEAT[accepted])
    assert node.paths()[:first_heartbeat] == [REGISTER[v] for v in tried]
    assert {path for path in node.paths() if path.endswith("/heartbeat")} == {HEARTBEAT[accepted]}
    status = client.status()
    assert status["registered"] is True and status["network_status"] == "connected"
    assert status["node_id"] == "node-standin-1" and status["api_version"] == accepted


def test_registration_body_describes_the_agent(node, connect_agent):
    app, client = connect_agent(node.url, PORT=8123)
    node.wait_for(lambda: node.requests_to("/register"))
    body = node.requests_to("/register")[0][1]
    assert body["agent_id"] == app.config["AGENT_ID"]
    assert body["agent_type"] == "ultimate" and body["version"] and body["host"] and body["name"]
    assert body["dashboard_port"] == 8123
    assert body["registration_protocol_version"]
    # The capabilities are the /api/capabilities content: the task types this agent really runs.
    assert "data_processing" in body["capabilities"]["task_types"]
    assert body["capabilities"]["agent_id"] == app.config["AGENT_ID"]
    info = body["system_info"]
    assert info["cpu_count"] >= 1 and info["memory_total_mb"] > 0
    assert isinstance(info["gpu_available"], bool)


def test_heartbeats_follow_the_interval_of_the_last_reply(standin_nodes, connect_agent):
    # The configured default is 30 s: heartbeats a fraction of a second apart come from the replies.
    node = standin_nodes(next_heartbeat=0.3)
    app, client = connect_agent(node.url, NODE_HEARTBEAT_INTERVAL=30.0)
    node.wait_for(lambda: len(node.requests_to("/heartbeat")) >= 4)
    node.next_heartbeat = 0.8
    count = len(node.requests_to("/heartbeat"))
    node.wait_for(lambda: len(node.requests_to("/heartbeat")) >= count + 2, timeout=5)

    times = [at for at, _ in node.requests_to("/heartbeat")]
    early = sorted(b - a for a, b in zip(times[:3], times[1:4], strict=True))
    # Never sooner than asked; later only by scheduling delays (the machine may be busy).
    assert early[0] >= 0.25 and early[1] <= 0.6, early
    assert 0.75 <= times[-1] - times[-2] <= 1.5, times[-1] - times[-2]

    body = node.requests_to("/heartbeat")[-1][1]
    assert body["agent_id"] == app.config["AGENT_ID"] and body["status"] == "online"
    assert body["uptime"] > 0
    for key in ("current_tasks", "completed_tasks", "tasks_running"):
        assert isinstance(body[key], int)
    assert 0 <= body["cpu_percent"] <= 100 and 0 < body["memory_percent"] <= 100
    assert body["system_load"]["memory_percent"] == body["memory_percent"]
    assert body["system_load"]["tasks_running"] == body["tasks_running"]
    assert client.status()["heartbeat_interval"] == 0.8


def test_node_that_forgot_the_agent_gets_a_new_registration(node, connect_agent):
    app, client = connect_agent(node.url)
    node.wait_for(lambda: len(node.requests_to("/heartbeat")) >= 2)
    node.agents.clear()  # the node restarted and lost its agent table

    node.wait_for(lambda: len(node.requests_to("/register")) >= 2)
    registered_again = node.requests_to("/register")[1][0]
    node.wait_for(lambda: [at for at, _ in node.requests_to("/heartbeat") if at > registered_again])
    assert client.status()["registered"] is True
    assert app.config["AGENT_ID"] in node.agents


def test_down_node_is_retried_with_backoff_without_log_spam_until_it_answers(connect_agent, caplog):
    port = free_port()
    caplog.set_level(logging.DEBUG, logger="ultimate_agent.network")
    app, client = connect_agent(f"http://127.0.0.1:{port}", NODE_BACKOFF_INITIAL=0.1, NODE_BACKOFF_MAX=0.4)
    time.sleep(1.5)

    status = client.status()
    assert status["registered"] is False and status["network_status"] == "disconnected"
    assert status["connection_quality"] == "poor" and status["failure_rate"] == 1.0
    # Delays of 0.05-0.1, 0.1-0.2, then 0.2-0.4 s: a handful of attempts, not a busy loop.
    attempts = client._http_backoff.failures
    assert 3 <= attempts <= 10, attempts
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]

    node = StandInNode(port=port, next_heartbeat=0.2).start()
    try:
        wait_registered(node, client, timeout=5)
        assert client.status()["network_status"] == "connected"
    finally:
        client.stop(timeout=5)
        node.stop()


def test_failing_node_gets_exponentially_spaced_jittered_retries(standin_nodes, connect_agent):
    node = standin_nodes()
    node.failing = True
    connect_agent(node.url, NODE_BACKOFF_INITIAL=0.1, NODE_BACKOFF_MAX=0.8)
    node.wait_for(lambda: len(node.requests_to(REGISTER["v4"])) >= 6, timeout=10)

    # A 503 ends an attempt: the older paths are not tried against a failing node.
    assert not node.requests_to(REGISTER["v3"])
    times = [at for at, _ in node.requests_to(REGISTER["v4"])]
    for failures, (a, b) in enumerate(zip(times, times[1:6], strict=False)):
        ceiling = min(0.8, 0.1 * 2 ** failures)
        # Never before half the ceiling; the upper slack is for a busy machine.
        assert ceiling / 2 - 0.02 <= b - a <= ceiling + 0.4, (failures, b - a)


def test_graceful_stop_sends_a_shutdown_heartbeat(node, connect_agent):
    app, client = connect_agent(node.url)
    wait_registered(node, client)
    client.stop(timeout=5)

    last = node.requests_to("/heartbeat")[-1][1]
    assert last["status"] == "shutdown" and last["agent_id"] == app.config["AGENT_ID"]
    assert client.running is False
    assert client.status()["network_status"] == "disconnected"


def test_network_endpoint_reports_the_live_registration(node, connect_agent):
    app, client = connect_agent(node.url)
    wait_registered(node, client)
    node.wait_for(lambda: client.status()["last_heartbeat"])
    key = admin_key_of(app)

    body = app.test_client().get("/api/network", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["node_url"] == node.url
    assert body["registered"] is True and body["network_status"] == "connected"
    assert body["agent_id"] == app.config["AGENT_ID"] and body["node_id"] == "node-standin-1"
    # Loopback answers in milliseconds and nothing failed.
    assert body["connection_quality"] in ("excellent", "good") and body["failure_rate"] == 0.0
    assert body["round_trip_ms"] is not None and body["last_heartbeat"].endswith("Z")
    assert body["assignments_connected"] is True
    stats = app.test_client().get("/api/stats", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert stats["registered"] is True


def test_factory_starts_the_client_only_when_serving(node, app_factory):
    testing = app_factory(NODE_URL=node.url, **FAST)
    assert "network_client" not in testing.extensions
    switched_off = app_factory(TESTING=False, MONITOR_AUTOSTART=False, NETWORK_CLIENT_AUTOSTART=False,
                               NODE_URL=node.url, **FAST)
    assert "network_client" not in switched_off.extensions

    serving = app_factory(TESTING=False, MONITOR_AUTOSTART=False, NODE_URL=node.url, **FAST)
    client = serving.extensions["network_client"]
    try:
        wait_registered(node, client)
        assert node.requests_to("/register")[0][1]["agent_id"] == serving.config["AGENT_ID"]
    finally:
        client.stop(timeout=5)


def test_standalone_agent_has_no_client(app_factory):
    app = app_factory(NODE_URL="")
    assert start_network_client(app) is None
    assert "network_client" not in app.extensions
