"""Prometheus /metrics: read auth, the text format, counters and gauges that follow what really happened."""

from __future__ import annotations

import psutil
import pytest
from agent_support import add_tasks, admin_key_of
from prometheus_client.parser import text_string_to_metric_families


def scrape(client, headers) -> dict[tuple[str, tuple], float]:
    """Scrape /metrics and index every sample by (name, sorted labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    """One sample's value (KeyError when absent)."""
    return samples[(name, tuple(sorted(labels.items())))]


# -- access and format ---------------------------------------------------------------------------------------


def test_metrics_need_credentials(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.get_json()["error_code"] == "UNAUTHORIZED"
    bad = client.get("/metrics", headers={"Authorization": "Bearer ua_wrong-key-0000000000000"})
    assert bad.status_code == 401


def test_read_key_may_scrape(client, read_headers):
    assert client.get("/metrics", headers=read_headers).status_code == 200


def test_text_exposition_format(client, read_headers):
    response = client.get("/metrics", headers=read_headers)
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("text/plain")
    assert "version=" in content_type
    assert content_type.count("charset") == 1
    text = response.get_data(as_text=True)
    assert "# HELP ultimate_agent_cpu_percent " in text
    assert "# TYPE ultimate_agent_cpu_percent gauge" in text
    assert "# TYPE ultimate_agent_tasks gauge" in text
    # The whole body parses as Prometheus text.
    assert list(text_string_to_metric_families(text))


# -- request counters ---


def test_http_requests_are_counted(client, read_headers):
    for _ in range(3):
        assert client.get("/api/stats", headers=read_headers).status_code == 200
    client.get("/api/health")
    client.get("/api/stats")  # 401
    client.get("/api/database/tasks?limit=0", headers=read_headers)  # 400
    samples = scrape(client, read_headers)
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="status.get_stats", status="200") == 3.0
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="status.get_health", status="200") == 1.0
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="status.get_stats", status="401") == 1.0
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="database.get_task_records", status="400") == 1.0
    # Requests keep counting: two more, and the first scrape itself, show in the next scrape.
    client.get("/api/stats", headers=read_headers)
    client.get("/api/stats", headers=read_headers)
    samples = scrape(client, read_headers)
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="status.get_stats", status="200") == 5.0
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="metrics.get_metrics", status="200") == 1.0


def test_unknown_routes_are_counted_as_unmatched(client, read_headers):
    client.get("/api/no/such/thing", headers=read_headers)
    samples = scrape(client, read_headers)
    assert value(samples, "ultimate_agent_http_requests_total",
                 method="GET", endpoint="unmatched", status="404") == 1.0


def test_latency_histogram_observes_requests(client, read_headers):
    for _ in range(4):
        client.get("/api/system", headers=read_headers)
    samples = scrape(client, read_headers)
    name = "ultimate_agent_http_request_duration_seconds"
    assert value(samples, f"{name}_count", endpoint="status.get_system") == 4.0
    assert value(samples, f"{name}_sum", endpoint="status.get_system") > 0


def test_each_app_counts_its_own_requests(app_factory):
    first, second = app_factory(), app_factory()
    headers = {}
    for app in (first, second):
        key = admin_key_of(app)
        headers[app] = {"Authorization": f"Bearer {key}"}
    for _ in range(2):
        first.test_client().get("/api/stats", headers=headers[first])
    samples = scrape(second.test_client(), headers[second])
    assert ("ultimate_agent_http_requests_total",
            (("endpoint", "status.get_stats"), ("method", "GET"), ("status", "200"))) not in samples


# -- live gauges ---


def test_system_gauges_read_the_machine(app, client, read_headers):
    samples = scrape(client, read_headers)
    assert 0.0 <= value(samples, "ultimate_agent_cpu_percent") <= 100.0
    memory = psutil.virtual_memory().percent
    assert value(samples, "ultimate_agent_memory_percent") == pytest.approx(memory, abs=5)
    assert value(samples, "ultimate_agent_disk_percent") == pytest.approx(
        psutil.disk_usage(app.instance_path).percent, abs=1)
    assert value(samples, "ultimate_agent_process_threads") >= 1
    assert 0.0 <= value(samples, "ultimate_agent_health_score") <= 100.0
    assert value(samples, "ultimate_agent_uptime_seconds") >= 0
    assert value(samples, "ultimate_agent_gpu_available") in (0.0, 1.0)


def test_health_gauge_matches_the_health_endpoint(app_factory):
    app = app_factory(MONITOR_SAMPLE_INTERVAL=600.0)
    key = admin_key_of(app)
    client = app.test_client()
    health = client.get("/api/health").get_json()
    samples = scrape(client, {"Authorization": f"Bearer {key}"})
    assert value(samples, "ultimate_agent_health_score") == health["health_score"]


def test_task_gauges_follow_rows(app, client, read_headers):
    samples = scrape(client, read_headers)
    assert value(samples, "ultimate_agent_tasks", state="completed") == 0.0
    add_tasks(app, completed=4, failed=2, running=1)
    samples = scrape(client, read_headers)
    assert value(samples, "ultimate_agent_tasks", state="completed") == 4.0
    assert value(samples, "ultimate_agent_tasks", state="failed") == 2.0
    assert value(samples, "ultimate_agent_tasks", state="running") == 1.0
    assert value(samples, "ultimate_agent_tasks", state="queued") == 0.0


def test_socketio_connection_gauge(app, client, read_headers, socket_client):
    assert socket_client.is_connected()
    assert value(scrape(client, read_headers), "ultimate_agent_socketio_connections") == 1.0
    socket_client.disconnect()
    assert value(scrape(client, read_headers), "ultimate_agent_socketio_connections") == 0.0


def test_scrapes_are_rate_limited_like_the_api(client, read_headers):
    """The scrape carries the seed's rate-limit headers like every API call."""
    response = client.get("/metrics", headers=read_headers)
    assert "X-RateLimit-Limit" in response.headers
