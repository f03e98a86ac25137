"""Agent Status and System Monitoring endpoints: every seed field, with the seed's JSON type, real values."""

from __future__ import annotations

import os
import platform
import socket
import time
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from agent_support import add_tasks, admin_key_of

from ultimate_agent import __version__
from ultimate_agent.extensions import db
from ultimate_agent.models import Earning, TaskRecord

# The seed's example bodies (seed/API.md), verbatim: the type of each value is the contract.
SEED_STATS = {
    "agent_id": "ultimate-a1b2c3d4", "running": True, "registered": True, "current_tasks": 2,
    "tasks_completed": 157, "tasks_failed": 3, "total_earnings": 0.2847, "uptime_hours": 48.7,
    "ai_models_loaded": 7, "modular_architecture": True,
}
SEED_ENHANCED = {
    "agent_id": "ultimate-a1b2c3d4", "running": True, "registered": True, "current_tasks": 2,
    "stats": {"tasks_completed": 157, "tasks_failed": 3, "total_earnings": 0.2847, "start_time": 1640995200},
    "ai_status": {"models_loaded": 7, "gpu_available": True, "training_engine_active": True,
                  "active_training_sessions": 1},
    "blockchain_status": {"wallet_initialized": True, "smart_contracts_enabled": True,
                          "connected_networks": 3, "transaction_pool_size": 5},
    "modular_architecture": True, "advanced_features": True, "dashboard_connected": True,
}
SEED_SYSTEM = {
    "cpu_percent": 23.5, "memory_percent": 45.2, "memory_mb": 2048.7, "status": "online",
    "platform": "Windows", "python_version": "3.9.7", "architecture": "AMD64",
}
SEED_CAPABILITIES = {
    "agent_id": "ultimate-a1b2c3d4", "name": "ultimate-agent-a1b2c3d4", "host": "DESKTOP-ABC123",
    "version": "3.0.0-enhanced", "agent_type": "ultimate",
    "capabilities": ["ai", "blockchain", "cloud", "security"],
    "ai_models": ["sentiment", "classification", "regression", "transformer", "cnn"], "gpu_available": True,
    "blockchain_enabled": True, "enhanced_features": True,
    "task_types": ["neural_network_training", "blockchain_transaction", "data_processing"],
    "dashboard_enabled": True, "websocket_enabled": True, "api_version": "v4", "modular_architecture": True,
}
SEED_ACTIVITY = {
    "tasks_running": 2, "tasks_completed": 157, "tasks_failed": 3, "activity_level": "high",
    "uptime_hours": 48.7,
}
SEED_NETWORK = {
    "node_url": "http://srvnodes.peoplesainetwork.com:5000", "registered": True,
    "network_status": "connected", "agent_id": "ultimate-a1b2c3d4", "connection_quality": "good",
}
SEED_PERFORMANCE = {
    "timestamp": "2023-12-31T17:00:00Z", "cpu_percent": 23.5, "memory_percent": 45.2, "gpu_percent": 67.8,
    "disk_usage_percent": 78.3, "network_io": {"bytes_sent": 1048576, "bytes_recv": 2097152},
    "process": {"cpu_percent": 15.2, "memory_mb": 512.7, "threads": 28, "open_files": 45},
    "gpu": {"available": True, "name": "NVIDIA RTX 3080", "memory_used_mb": 4096, "memory_total_mb": 10240,
            "temperature": 72},
    "tasks_running": 2, "health_score": 87.5,
}
SEED_HEALTH = {
    "status": "healthy", "health_score": 87.5,
    "components": {"cpu": 92.5, "memory": 85.0, "disk": 78.5},
    "alerts": [],
    "uptime_seconds": 175320, "last_updated": "2023-12-31T17:00:00Z",
}
# Without a GPU there is no name or temperature to report: null is the honest value.
NO_GPU_NULLABLE = {"gpu.name", "gpu.temperature"}

ENDPOINTS = {
    "/api/stats": SEED_STATS,
    "/api/v3/stats/enhanced": SEED_ENHANCED,
    "/api/system": SEED_SYSTEM,
    "/api/capabilities": SEED_CAPABILITIES,
    "/api/activity": SEED_ACTIVITY,
    "/api/network": SEED_NETWORK,
    "/api/health": SEED_HEALTH,
    "/api/performance/metrics": SEED_PERFORMANCE,
}


def assert_seed_types(body: dict, seed: dict, nullable: set[str] = frozenset(), path: str = "") -> None:
    """Every seed key is present with the seed's JSON type (int, float, bool, str, list, object)."""
    for key, example in seed.items():
        where = f"{path}{key}"
        assert key in body, f"missing field {where}"
        value = body[key]
        if value is None and where in nullable:
            continue
        assert type(value) is type(example), f"{where}: {value!r} is {type(value).__name__}, " \
                                             f"seed has {type(example).__name__}"
        if isinstance(example, dict):
            assert_seed_types(value, example, nullable, f"{where}.")
        if isinstance(example, list) and example and value:
            assert all(type(item) is type(example[0]) for item in value), f"{where}: {value!r}"


def add_earnings(app, *amounts: tuple[float, str]) -> None:
    """Insert earning rows (amount, currency)."""
    with app.app_context():
        for amount, currency in amounts:
            db.session.add(Earning(amount=amount, currency=currency))
        db.session.commit()


def parse_iso_z(value: str) -> datetime:
    """Parse the API's `...Z` timestamps as aware UTC times."""
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)


# -- shape -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_every_seed_field_has_the_seed_type(client, auth_headers, path):
    response = client.get(path, headers=auth_headers)
    assert response.status_code == 200
    assert response.is_json
    assert_seed_types(response.get_json(), ENDPOINTS[path], NO_GPU_NULLABLE)


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_shapes_hold_with_rows_in_the_database(app, client, auth_headers, path):
    """Counts and sums read from real rows keep their types (a SUM must not turn into an int or a string)."""
    add_tasks(app, completed=2, failed=1, running=1)
    add_earnings(app, (0.05, "ETH"), (1.0, "ETH"))
    body = client.get(path, headers=auth_headers).get_json()
    assert_seed_types(body, ENDPOINTS[path], NO_GPU_NULLABLE)


@pytest.mark.parametrize("path", [p for p in ENDPOINTS if p != "/api/health"])
def test_status_endpoints_need_credentials(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error_code"] == "UNAUTHORIZED"


def test_read_permission_is_enough(client, read_headers):
    for path in ENDPOINTS:
        assert client.get(path, headers=read_headers).status_code == 200, path


def test_health_is_public(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert_seed_types(response.get_json(), SEED_HEALTH)


@pytest.mark.parametrize(("seed_path", "v4_path"), [
    ("/api/stats", "/api/v4/stats"),
    ("/api/v3/stats/enhanced", "/api/v4/stats/enhanced"),
    ("/api/system", "/api/v4/system"),
    ("/api/health", "/api/v4/health"),
    ("/api/performance/metrics", "/api/v4/performance/metrics"),
])
def test_v4_mirrors_serve_the_same_fields(client, auth_headers, seed_path, v4_path):
    seed_body = client.get(seed_path, headers=auth_headers).get_json()
    v4 = client.get(v4_path, headers=auth_headers)
    assert v4.status_code == 200
    assert set(v4.get_json()) == set(seed_body)


# -- /api/stats and /api/v3/stats/enhanced ----------------------------------------------------------


def test_stats_on_an_empty_agent(app, client, auth_headers):
    body = client.get("/api/stats", headers=auth_headers).get_json()
    assert body["agent_id"] == app.config["AGENT_ID"]
    assert body["running"] is True
    assert body["current_tasks"] == 0
    assert body["tasks_completed"] == 0
    assert body["tasks_failed"] == 0
    assert body["total_earnings"] == 0.0
    if app.extensions.get("model_registry") is None:
        assert body["ai_models_loaded"] == 0
    # No node registration happened in a test: the API must not claim one.
    assert body["registered"] is False


def test_stats_count_task_rows_by_state(app, client, auth_headers):
    add_tasks(app, completed=3, failed=2, running=1, queued=2, paused=1, cancelled=4, interrupted=1)
    body = client.get("/api/stats", headers=auth_headers).get_json()
    assert body["tasks_completed"] == 3
    assert body["tasks_failed"] == 2
    # current = running + queued + paused; cancelled/interrupted are not current.
    assert body["current_tasks"] == 4


def test_stats_follow_new_rows(app, client, auth_headers):
    assert client.get("/api/stats", headers=auth_headers).get_json()["tasks_completed"] == 0
    add_tasks(app, completed=1)
    assert client.get("/api/stats", headers=auth_headers).get_json()["tasks_completed"] == 1
    with app.app_context():
        db.session.get(TaskRecord, "rec-completed-0").status = "failed"
        db.session.commit()
    body = client.get("/api/stats", headers=auth_headers).get_json()
    assert (body["tasks_completed"], body["tasks_failed"]) == (0, 1)


def test_total_earnings_sums_eth_only(app, client, auth_headers):
    add_earnings(app, (0.05, "ETH"), (0.1, "ETH"), (0.0347, "ETH"), (150.75, "PAIN"), (25.8, "USDC"))
    body = client.get("/api/stats", headers=auth_headers).get_json()
    assert isinstance(body["total_earnings"], float)
    assert body["total_earnings"] == pytest.approx(0.1847)
    enhanced = client.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()
    assert enhanced["stats"]["total_earnings"] == pytest.approx(0.1847)


def test_total_earnings_without_eth_rows_is_zero(app, client, auth_headers):
    add_earnings(app, (99.0, "PAIN"))
    assert client.get("/api/stats", headers=auth_headers).get_json()["total_earnings"] == 0.0


def test_uptime_grows(app, client, auth_headers):
    first = client.get("/api/health").get_json()["uptime_seconds"]
    time.sleep(1.1)
    second = client.get("/api/health").get_json()["uptime_seconds"]
    assert second >= first + 1
    # uptime_hours is computed from the real start time: two hours ago reads as two hours.
    app.extensions["agent_started_at"] -= 7200
    hours = client.get("/api/stats", headers=auth_headers).get_json()["uptime_hours"]
    assert hours == pytest.approx(2.0, abs=0.01)
    activity = client.get("/api/activity", headers=auth_headers).get_json()
    assert activity["uptime_hours"] == pytest.approx(2.0, abs=0.01)
    assert client.get("/api/health").get_json()["uptime_seconds"] >= 7200


def test_enhanced_stats_reflect_rows_and_start_time(app, client, auth_headers):
    before = time.time()
    add_tasks(app, completed=2, failed=1, running=1)
    add_earnings(app, (0.25, "ETH"))
    body = client.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()
    assert body["agent_id"] == app.config["AGENT_ID"]
    assert body["current_tasks"] == 1
    assert body["stats"]["tasks_completed"] == 2
    assert body["stats"]["tasks_failed"] == 1
    assert body["stats"]["total_earnings"] == pytest.approx(0.25)
    assert body["stats"]["start_time"] == int(app.extensions["agent_started_at"])
    assert before - 120 < body["stats"]["start_time"] <= before
    # No training ran here: nothing claims one is active.
    assert body["ai_status"]["active_training_sessions"] == 0
    assert body["ai_status"]["training_engine_active"] is (app.extensions.get("task_manager") is not None)
    if app.extensions.get("model_registry") is None:
        assert body["ai_status"]["models_loaded"] == 0
    if app.extensions.get("chain") is None:
        # Without a chain service the agent must not claim a wallet or networks.
        assert body["blockchain_status"]["connected_networks"] == 0
        assert body["blockchain_status"]["wallet_initialized"] is False
    # No Socket.IO client is connected.
    assert body["dashboard_connected"] is False


def test_stats_and_enhanced_stats_agree(app, client, auth_headers):
    add_tasks(app, completed=5, failed=3, queued=2)
    add_earnings(app, (0.5, "ETH"))
    basic = client.get("/api/stats", headers=auth_headers).get_json()
    enhanced = client.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()
    assert enhanced["current_tasks"] == basic["current_tasks"] == 2
    assert enhanced["stats"]["tasks_completed"] == basic["tasks_completed"]
    assert enhanced["stats"]["tasks_failed"] == basic["tasks_failed"]
    assert enhanced["stats"]["total_earnings"] == basic["total_earnings"]
    assert enhanced["agent_id"] == basic["agent_id"]


def test_agent_id_from_config(app_factory):
    app = app_factory(AGENT_ID="ultimate-cafebabe")
    key = admin_key_of(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/stats", headers=headers).get_json()["agent_id"] == "ultimate-cafebabe"
    caps = client.get("/api/capabilities", headers=headers).get_json()
    assert caps["name"] == "ultimate-agent-cafebabe"


# -- /api/system ------------------------------------------------------------------------------------


def test_system_reports_this_machine(client, auth_headers):
    body = client.get("/api/system", headers=auth_headers).get_json()
    assert body["cpu_count"] == os.cpu_count()
    assert body["memory_percent"] == pytest.approx(psutil.virtual_memory().percent, abs=5)
    total_mb = psutil.virtual_memory().total / 2**20
    assert body["memory_total_mb"] == pytest.approx(total_mb, rel=0.01)
    assert 0 < body["memory_mb"] <= body["memory_total_mb"]
    assert 0.0 <= body["cpu_percent"] <= 100.0
    assert body["status"] == "online"
    assert body["platform"] == platform.system()
    assert body["python_version"] == platform.python_version()
    assert body["architecture"] == platform.machine()
    rss_mb = psutil.Process().memory_info().rss / 2**20
    assert body["process_memory_mb"] == pytest.approx(rss_mb, rel=0.25)


# -- /api/capabilities -------------------------------------------------------------------------------


def test_capabilities_describe_this_agent(app, client, auth_headers):
    body = client.get("/api/capabilities", headers=auth_headers).get_json()
    assert body["agent_id"] == app.config["AGENT_ID"]
    assert body["host"] == socket.gethostname()
    assert body["version"] == __version__
    assert body["agent_type"] == "ultimate"
    assert body["api_version"] == "v4"
    assert body["websocket_enabled"] is True
    assert "monitoring" in body["capabilities"]
    # Blockchain is advertised exactly when the chain service exists.
    has_chain = app.extensions.get("chain") is not None
    assert body["blockchain_enabled"] is has_chain
    assert ("blockchain" in body["capabilities"]) is has_chain
    assert ("ai" in body["capabilities"]) is (app.extensions.get("task_manager") is not None)


# -- /api/activity ----------------------------------------------------------------------------------


def test_activity_counts_rows(app, client, auth_headers):
    add_tasks(app, running=1, queued=2, completed=4, failed=1)
    body = client.get("/api/activity", headers=auth_headers).get_json()
    assert body["tasks_running"] == 1
    assert body["tasks_queued"] == 2
    assert body["tasks_completed"] == 4
    assert body["tasks_failed"] == 1
    assert body["activity_level"] in {"idle", "low", "medium", "high"}


def test_activity_is_high_at_capacity(app_factory):
    app = app_factory(MAX_CONCURRENT_TASKS=1)
    key = admin_key_of(app)
    add_tasks(app, running=1)
    body = app.test_client().get("/api/activity", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["tasks_running"] == 1
    assert body["activity_level"] == "high"


# -- /api/network -----------------------------------------------------------------------------------


def test_network_is_honest_without_registration(app, client, auth_headers):
    body = client.get("/api/network", headers=auth_headers).get_json()
    assert body["node_url"] == app.config["NODE_URL"]
    assert body["agent_id"] == app.config["AGENT_ID"]
    assert body["registered"] is False
    assert body["network_status"] != "connected"


def test_network_standalone_without_node_url(app_factory):
    app = app_factory(NODE_URL="")
    key = admin_key_of(app)
    body = app.test_client().get("/api/network", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["network_status"] == "standalone"
    assert body["registered"] is False


# -- /api/performance/metrics ---------------------------------------------------------------------------


def test_performance_metrics_are_measured(app, client, auth_headers):
    add_tasks(app, running=2, queued=1)
    net_before = psutil.net_io_counters()
    body = client.get("/api/performance/metrics", headers=auth_headers).get_json()
    net_after = psutil.net_io_counters()
    stamp = parse_iso_z(body["timestamp"])
    assert abs(datetime.now(UTC) - stamp) < timedelta(seconds=30)
    assert body["disk_usage_percent"] == pytest.approx(psutil.disk_usage(app.instance_path).percent, abs=1)
    assert body["memory_percent"] == pytest.approx(psutil.virtual_memory().percent, abs=5)
    assert 0.0 <= body["cpu_percent"] <= 100.0
    assert net_before.bytes_sent <= body["network_io"]["bytes_sent"] <= net_after.bytes_sent
    assert net_before.bytes_recv <= body["network_io"]["bytes_recv"] <= net_after.bytes_recv
    process = psutil.Process()
    assert body["process"]["threads"] >= 1
    assert body["process"]["open_files"] >= 0
    assert body["process"]["memory_mb"] == pytest.approx(process.memory_info().rss / 2**20, rel=0.25)
    assert body["tasks_running"] == 2
    assert 0.0 <= body["health_score"] <= 100.0


def test_performance_and_health_share_one_sample(app_factory):
    """Within the sample interval both endpoints read the same sample: the scores are 100 - usage."""
    app = app_factory(MONITOR_SAMPLE_INTERVAL=600.0)
    key = admin_key_of(app)
    client = app.test_client()
    perf = client.get("/api/performance/metrics", headers={"Authorization": f"Bearer {key}"}).get_json()
    health = client.get("/api/health").get_json()
    assert health["health_score"] == perf["health_score"]
    assert health["last_updated"] == perf["timestamp"]
    assert health["components"]["cpu"] == pytest.approx(100 - perf["cpu_percent"], abs=0.051)
    assert health["components"]["memory"] == pytest.approx(100 - perf["memory_percent"], abs=0.051)
    assert health["components"]["disk"] == pytest.approx(100 - perf["disk_usage_percent"], abs=0.051)


# -- /api/health --------------------------------------------------------------------------------------


def test_health_report_is_consistent(client):
    body = client.get("/api/health").get_json()
    components = body["components"]
    assert {"cpu", "memory", "disk"} <= set(components)
    assert all(0.0 <= score <= 100.0 for score in components.values())
    weights = {"cpu": 0.3, "memory": 0.3, "disk": 0.2, "gpu": 0.2}
    expected = sum(components[n] * weights[n] for n in components) / sum(weights[n] for n in components)
    assert body["health_score"] == pytest.approx(expected, abs=0.06)
    assert body["status"] in {"healthy", "degraded", "critical"}
    if body["alerts"]:
        assert body["status"] != "healthy"
    parse_iso_z(body["last_updated"])
    assert isinstance(body["uptime_seconds"], int)
    assert body["uptime_seconds"] >= 0
