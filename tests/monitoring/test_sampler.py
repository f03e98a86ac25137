"""SystemMonitor on a real app: sampling cache, stored history, pruning, the thread, system_alert events."""

from __future__ import annotations

import time
from datetime import timedelta

import psutil
import pytest
from agent_support import admin_key_of

from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import PerformanceMetric, TaskRecord
from ultimate_agent.models.base import utcnow

LOW_DISK = {"disk": {"warning": 0.0, "critical": 100.0}}
UNREACHABLE_DISK = {"disk": {"warning": 101.0, "critical": 102.0}}


def metric_rows(app) -> list[PerformanceMetric]:
    """All stored samples, oldest first."""
    with app.app_context():
        rows = db.session.scalars(db.select(PerformanceMetric).order_by(PerformanceMetric.timestamp)).all()
        db.session.expunge_all()
        return rows


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    """Poll until predicate() is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def connect():
    """Connect Socket.IO test clients to an app as its admin; disconnects them afterwards."""
    clients = []

    def make(app):
        key = admin_key_of(app)
        client = socketio.test_client(app, auth={"token": key})
        assert client.is_connected()
        client.get_received()  # drop the `connected` greeting
        clients.append(client)
        return client

    yield make
    for client in clients:
        if client.is_connected():
            client.disconnect()


def received(client, name: str) -> list[dict]:
    """Payloads of the `name` events the client got since the last call."""
    return [event["args"][0] for event in client.get_received() if event["name"] == name]


# -- current() and refresh() -----------------------------------------------------------------------------


def test_current_is_cached_within_the_sample_interval(app_factory):
    monitor = app_factory(MONITOR_SAMPLE_INTERVAL=600.0).extensions["system_monitor"]
    first = monitor.current()
    assert monitor.current() is first
    fresh = monitor.refresh()
    assert fresh is not first
    assert monitor.current() is fresh


def test_current_refreshes_after_the_sample_interval(app_factory):
    monitor = app_factory(MONITOR_SAMPLE_INTERVAL=0.05).extensions["system_monitor"]
    first = monitor.current()
    time.sleep(0.08)
    second = monitor.current()
    assert second is not first
    assert second.snapshot.timestamp > first.snapshot.timestamp


def test_sample_reads_this_machine(app):
    sample = app.extensions["system_monitor"].refresh()
    snap = sample.snapshot
    assert snap.disk_percent == pytest.approx(psutil.disk_usage(app.instance_path).percent, abs=1)
    assert snap.memory_percent == pytest.approx(psutil.virtual_memory().percent, abs=5)
    assert 0.0 <= snap.cpu_percent <= 100.0
    assert sample.components["disk"] == pytest.approx(100 - snap.disk_percent, abs=0.051)
    assert 0.0 <= sample.score <= 100.0
    assert sample.status in {"healthy", "degraded", "critical"}


# -- store() and tick() ---------------------------------------------------------------------------------


def test_tick_stores_a_row_with_real_values(app_factory):
    app = app_factory(MONITOR_STORE_INTERVAL=0.01, MONITOR_SAMPLE_INTERVAL=600.0)
    with app.app_context():
        for n in range(2):
            db.session.add(TaskRecord(id=f"rec-{n}", task_id=f"task-{n}", task_type="data_processing",
                                      status="running"))
        db.session.commit()
    monitor = app.extensions["system_monitor"]
    before = utcnow()
    monitor.tick()
    after = utcnow()
    (row,) = metric_rows(app)
    sample = monitor.current()  # the tick's sample, still fresh
    assert before <= row.timestamp <= after
    assert row.cpu_percent == sample.snapshot.cpu_percent
    assert row.memory_percent == pytest.approx(psutil.virtual_memory().percent, abs=5)
    assert row.disk_percent == pytest.approx(psutil.disk_usage(app.instance_path).percent, abs=1)
    assert row.gpu_percent == sample.snapshot.gpu.utilization_percent
    assert row.health_score == sample.score
    assert row.task_count == 2


def test_tick_respects_the_store_interval(app_factory):
    app = app_factory(MONITOR_STORE_INTERVAL=600.0)
    monitor = app.extensions["system_monitor"]
    monitor.tick()
    monitor.tick()
    assert len(metric_rows(app)) == 1


def test_tick_stores_again_once_the_interval_passed(app_factory):
    app = app_factory(MONITOR_STORE_INTERVAL=0.05)
    monitor = app.extensions["system_monitor"]
    monitor.tick()
    time.sleep(0.07)
    monitor.tick()
    rows = metric_rows(app)
    assert len(rows) == 2
    assert rows[0].timestamp < rows[1].timestamp


def test_stored_rows_show_in_the_history_endpoint(app_factory):
    app = app_factory(MONITOR_STORE_INTERVAL=0.01)
    app.extensions["system_monitor"].tick()
    key = admin_key_of(app)
    body = app.test_client().get("/api/database/performance?hours=1",
                                 headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["data_points"] == 1
    disk = psutil.disk_usage(app.instance_path).percent
    assert body["metrics"][0]["disk_percent"] == pytest.approx(disk, abs=1)


# -- prune() ---


def add_metric(app, age: timedelta, cpu: float) -> None:
    """Insert one sample `age` ago."""
    with app.app_context():
        db.session.add(PerformanceMetric(timestamp=utcnow() - age, cpu_percent=cpu, memory_percent=1.0))
        db.session.commit()


def test_prune_deletes_rows_past_retention(app_factory):
    app = app_factory(MONITOR_RETENTION_HOURS=1.0)
    add_metric(app, timedelta(hours=5), cpu=1.0)
    add_metric(app, timedelta(hours=1, minutes=1), cpu=2.0)
    add_metric(app, timedelta(minutes=59), cpu=3.0)
    add_metric(app, timedelta(seconds=1), cpu=4.0)
    with app.app_context():
        removed = app.extensions["system_monitor"].prune()
    assert removed == 2
    assert [row.cpu_percent for row in metric_rows(app)] == [3.0, 4.0]
    with app.app_context():
        assert app.extensions["system_monitor"].prune() == 0


def test_first_tick_prunes_old_history(app_factory):
    app = app_factory(MONITOR_RETENTION_HOURS=2.0, MONITOR_STORE_INTERVAL=600.0)
    add_metric(app, timedelta(hours=3), cpu=1.0)
    add_metric(app, timedelta(hours=1), cpu=2.0)
    app.extensions["system_monitor"].tick()
    rows = metric_rows(app)
    assert 1.0 not in [row.cpu_percent for row in rows]
    assert 2.0 in [row.cpu_percent for row in rows]
    assert len(rows) == 2  # the kept row and the tick's own


# -- the thread --------------------------------------------------------------------------------------------


def test_thread_samples_and_stores_on_its_own(app_factory):
    app = app_factory(MONITOR_SAMPLE_INTERVAL=0.05, MONITOR_STORE_INTERVAL=0.05)
    monitor = app.extensions["system_monitor"]
    assert not monitor.running
    monitor.start()
    try:
        assert monitor.running
        rows = wait_for(lambda: (r := metric_rows(app)) and len(r) >= 3 and r)
        assert all(0.0 <= row.cpu_percent <= 100.0 for row in rows)
        assert len({row.timestamp for row in rows}) == len(rows)
    finally:
        monitor.stop()
    assert not monitor.running
    settled = len(metric_rows(app))
    time.sleep(0.2)
    assert len(metric_rows(app)) == settled


def test_start_is_idempotent_and_restartable(app_factory):
    app = app_factory(MONITOR_SAMPLE_INTERVAL=0.05, MONITOR_STORE_INTERVAL=0.05)
    monitor = app.extensions["system_monitor"]
    monitor.start()
    thread = monitor._thread
    monitor.start()
    assert monitor._thread is thread
    monitor.stop()
    assert not monitor.running
    count = len(metric_rows(app))
    monitor.start()
    try:
        wait_for(lambda: len(metric_rows(app)) > count)
    finally:
        monitor.stop()


def test_testing_apps_do_not_autostart_the_thread(app):
    assert app.extensions["system_monitor"].running is False


# -- system_alert ---


def test_new_alert_is_announced_once(app_factory, connect):
    app = app_factory(ALERT_THRESHOLDS=LOW_DISK)
    client = connect(app)
    monitor = app.extensions["system_monitor"]
    monitor.refresh()
    (alert,) = received(client, "system_alert")
    assert alert["type"] == "disk_space"
    assert alert["severity"] == "warning"
    assert alert["message"] == "Disk usage above 0%"
    assert alert["threshold"] == 0.0
    assert alert["value"] == pytest.approx(psutil.disk_usage(app.instance_path).percent, abs=1)
    assert alert["timestamp"].endswith("Z")
    # Still active: not announced again, whether by refresh, tick or an HTTP read.
    monitor.refresh()
    monitor.tick()
    app.test_client().get("/api/health")
    assert received(client, "system_alert") == []


def test_alert_is_announced_again_after_it_cleared(app_factory, connect):
    app = app_factory(ALERT_THRESHOLDS=LOW_DISK)
    client = connect(app)
    monitor = app.extensions["system_monitor"]
    monitor.refresh()
    assert len(received(client, "system_alert")) == 1
    app.config["ALERT_THRESHOLDS"] = UNREACHABLE_DISK
    assert monitor.refresh().alerts == []
    assert received(client, "system_alert") == []
    app.config["ALERT_THRESHOLDS"] = LOW_DISK
    monitor.refresh()
    assert len(received(client, "system_alert")) == 1


def test_escalation_to_critical_is_a_new_alert(app_factory, connect):
    app = app_factory(ALERT_THRESHOLDS=LOW_DISK)
    client = connect(app)
    monitor = app.extensions["system_monitor"]
    monitor.refresh()
    assert [a["severity"] for a in received(client, "system_alert")] == ["warning"]
    app.config["ALERT_THRESHOLDS"] = {"disk": {"warning": 0.0, "critical": 0.0}}
    monitor.refresh()
    assert [a["severity"] for a in received(client, "system_alert")] == ["critical"]


def test_no_alert_no_event(app_factory, connect):
    app = app_factory(ALERT_THRESHOLDS=UNREACHABLE_DISK)
    client = connect(app)
    app.extensions["system_monitor"].refresh()
    assert received(client, "system_alert") == []
