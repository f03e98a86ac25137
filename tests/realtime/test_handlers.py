"""Socket.IO handlers on a real app: authenticated connect, per-address cap, request_* events, broadcasts."""

from __future__ import annotations

import pytest
from agent_support import add_tasks, admin_key_of
from prometheus_client.parser import text_string_to_metric_families

from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import Earning

STATS_TYPES = {
    "agent_id": str, "running": bool, "registered": bool, "current_tasks": int, "tasks_completed": int,
    "tasks_failed": int, "total_earnings": float, "uptime_hours": float, "ai_models_loaded": int,
    "modular_architecture": bool,
}
ENHANCED_TYPES = {
    "agent_id": str, "running": bool, "registered": bool, "current_tasks": int, "stats": dict,
    "ai_status": dict, "blockchain_status": dict, "modular_architecture": bool, "advanced_features": bool,
    "dashboard_connected": bool,
}


def events(client, name: str) -> list[dict]:
    """Payloads of the `name` events the client received since the last call."""
    return [event["args"][0] for event in client.get_received() if event["name"] == name]


@pytest.fixture
def sockets():
    """Open Socket.IO test clients; whichever are still connected are closed afterwards."""
    opened = []

    def open_client(app, **kwargs):
        client = socketio.test_client(app, **kwargs)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        if client.is_connected():
            client.disconnect()


def metric_value(client, headers, name: str, **labels: str) -> float:
    """One sample's value from the real /metrics scrape."""
    text = client.get("/metrics", headers=headers).get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"{name}{labels} not in /metrics")


# -- connect and authentication ------------------------------------------------------------------------------


def test_connect_without_auth_is_refused(app, sockets):
    client = sockets(app)
    assert client.is_connected() is False
    assert app.extensions["socket_connections"].count() == 0


@pytest.mark.parametrize("auth", [
    {"token": "ua_not-a-real-key-0123456789"}, {"token": "a.b.c"}, {"token": ""}, {"token": 12345},
    {"key": "x"}, "just-a-string",
])
def test_bad_credentials_are_refused(app, sockets, auth):
    assert sockets(app, auth=auth).is_connected() is False
    assert app.extensions["socket_connections"].count() == 0


def test_refusals_are_counted(app, sockets, auth_headers):
    sockets(app)
    sockets(app, auth={"token": "wrong"})
    client = app.test_client()
    assert metric_value(client, auth_headers, "ultimate_agent_socketio_connections_refused_total",
                        reason="unauthorized") == 2.0


def test_good_token_connects_and_greets(app, sockets, admin_key):
    client = sockets(app, auth={"token": admin_key})
    assert client.is_connected()
    (greeting,) = events(client, "connected")
    assert greeting["agent_id"] == app.config["AGENT_ID"]
    assert set(greeting["permissions"]) == {"read", "write", "admin"}
    assert greeting["server_time"].endswith("Z")
    assert app.extensions["socket_connections"].count() == 1


def test_fixture_client_is_connected(socket_client, app):
    assert socket_client.is_connected()
    (greeting,) = events(socket_client, "connected")
    assert greeting["agent_id"] == app.config["AGENT_ID"]


def test_bearer_header_also_connects(app, sockets, admin_key):
    client = sockets(app, headers={"Authorization": f"Bearer {admin_key}"})
    assert client.is_connected()


def test_read_key_connects_with_read_permission(app, sockets, make_key):
    client = sockets(app, auth={"token": make_key(["read"], "viewer")})
    assert client.is_connected()
    (greeting,) = events(client, "connected")
    assert greeting["permissions"] == ["read"]


def test_revoked_key_is_refused(app, sockets, make_key):
    from ultimate_agent.security.keys import find_active_key, revoke_key

    raw = make_key(["read"], "short-lived")
    with app.app_context():
        revoke_key(find_active_key(raw).id, actor="test")
    assert sockets(app, auth={"token": raw}).is_connected() is False


def test_jwt_from_the_token_endpoint_connects(app, client, auth_headers, sockets):
    response = client.post("/api/auth/token", headers=auth_headers,
                           json={"agent_id": "dashboard-1", "permissions": ["read"]})
    assert response.status_code == 200
    token = response.get_json()["token"]
    socket = sockets(app, auth={"token": token})
    assert socket.is_connected()
    (greeting,) = events(socket, "connected")
    assert greeting["permissions"] == ["read"]
    socket.emit("request_stats")
    assert events(socket, "stats_update")


def test_tampered_jwt_is_refused(app, client, auth_headers, sockets):
    token = client.post("/api/auth/token", headers=auth_headers, json={}).get_json()["token"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert sockets(app, auth={"token": forged}).is_connected() is False


# -- the per-address cap -----------------------------------------------------------------------------------


def test_per_address_cap(app_factory, sockets):
    app = app_factory(WEBSOCKET_MAX_CONNECTIONS_PER_IP=3)
    token = {"token": admin_key_of(app)}
    first, second, third = (sockets(app, auth=token) for _ in range(3))
    assert all(c.is_connected() for c in (first, second, third))
    fourth = sockets(app, auth=token)
    assert fourth.is_connected() is False
    assert app.extensions["socket_connections"].count() == 3

    second.disconnect()
    assert app.extensions["socket_connections"].count() == 2
    fifth = sockets(app, auth=token)
    assert fifth.is_connected()
    assert sockets(app, auth=token).is_connected() is False

    key = admin_key_of(app)
    headers = {"Authorization": f"Bearer {key}"}
    http = app.test_client()
    assert metric_value(http, headers, "ultimate_agent_socketio_connections_refused_total",
                        reason="too_many") == 2.0
    assert metric_value(http, headers, "ultimate_agent_socketio_connections") == 3.0


def test_default_cap_is_the_seeds_ten(app, sockets, admin_key):
    clients = [sockets(app, auth={"token": admin_key}) for _ in range(11)]
    assert [c.is_connected() for c in clients] == [True] * 10 + [False]


def test_disconnect_releases_the_slot_and_dashboard_flag(app, sockets, admin_key, auth_headers):
    http = app.test_client()
    socket = sockets(app, auth={"token": admin_key})
    assert http.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()["dashboard_connected"] is True
    socket.disconnect()
    assert app.extensions["socket_connections"].count() == 0
    assert http.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()["dashboard_connected"] is False


# -- request_* events ----------------------------------------------------------------------------------------


def test_request_stats(app, socket_client, client, auth_headers):
    add_tasks(app, completed=3, failed=1, running=1)
    with app.app_context():
        db.session.add(Earning(amount=0.05, currency="ETH"))
        db.session.add(Earning(amount=7.0, currency="PAIN"))
        db.session.commit()
    socket_client.get_received()
    socket_client.emit("request_stats")
    (stats,) = events(socket_client, "stats_update")
    for field, kind in STATS_TYPES.items():
        assert type(stats[field]) is kind, (field, stats[field])
    assert stats["tasks_completed"] == 3
    assert stats["tasks_failed"] == 1
    assert stats["current_tasks"] == 1
    assert stats["total_earnings"] == pytest.approx(0.05)
    over_http = client.get("/api/stats", headers=auth_headers).get_json()
    assert set(stats) == set(over_http)
    assert {k: v for k, v in stats.items() if k != "uptime_hours"} == \
           {k: v for k, v in over_http.items() if k != "uptime_hours"}


def test_request_enhanced_stats(app, socket_client):
    add_tasks(app, completed=2)
    socket_client.get_received()
    socket_client.emit("request_enhanced_stats")
    (enhanced,) = events(socket_client, "enhanced_stats_update")
    for field, kind in ENHANCED_TYPES.items():
        assert type(enhanced[field]) is kind, (field, enhanced[field])
    assert enhanced["stats"]["tasks_completed"] == 2
    assert type(enhanced["stats"]["start_time"]) is int
    # The asking client is itself a connected dashboard.
    assert enhanced["dashboard_connected"] is True


def test_request_real_time_data(app, socket_client):
    add_tasks(app, running=2, queued=1)
    socket_client.get_received()
    socket_client.emit("request_real_time_data")
    (live,) = events(socket_client, "real_time_data")
    assert type(live["cpu_percent"]) is float and 0.0 <= live["cpu_percent"] <= 100.0
    assert type(live["memory_percent"]) is float and 0.0 < live["memory_percent"] <= 100.0
    assert live["tasks_running"] == 2
    assert live["timestamp"].endswith("Z")
    assert 0.0 <= live["health_score"] <= 100.0


def test_requests_answer_only_the_asker(app, sockets, admin_key):
    asker = sockets(app, auth={"token": admin_key})
    bystander = sockets(app, auth={"token": admin_key})
    asker.get_received()
    bystander.get_received()
    asker.emit("request_stats")
    assert len(events(asker, "stats_update")) == 1
    assert events(bystander, "stats_update") == []


# -- broadcasts from the monitor ---


def test_monitor_tick_broadcasts_to_every_client(app, sockets, admin_key):
    add_tasks(app, running=1, completed=4)
    first = sockets(app, auth={"token": admin_key})
    second = sockets(app, auth={"token": admin_key})
    for client in (first, second):
        client.get_received()
    app.extensions["system_monitor"].tick()
    for client in (first, second):
        received = client.get_received()
        names = [event["name"] for event in received]
        assert names.count("real_time_data") == 1
        assert names.count("stats_update") == 1
        payload = {event["name"]: event["args"][0] for event in received}
        assert payload["real_time_data"]["tasks_running"] == 1
        assert payload["stats_update"]["tasks_completed"] == 4
        assert set(payload["stats_update"]) == set(STATS_TYPES)


def test_disconnected_clients_get_no_broadcast(app, sockets, admin_key):
    staying = sockets(app, auth={"token": admin_key})
    leaving = sockets(app, auth={"token": admin_key})
    leaving.get_received()
    leaving.disconnect()
    staying.get_received()
    app.extensions["system_monitor"].tick()
    assert [e["name"] for e in staying.get_received()].count("real_time_data") == 1
    assert leaving.queue == []  # nothing was delivered to the closed client


def test_broadcasts_are_counted(app, socket_client, auth_headers):
    monitor = app.extensions["system_monitor"]
    monitor.tick()
    monitor.tick()
    http = app.test_client()
    assert metric_value(http, auth_headers, "ultimate_agent_socketio_events_emitted_total",
                        event="real_time_data") == 2.0
