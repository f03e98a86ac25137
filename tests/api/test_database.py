"""Database Operations endpoints on a real SQLite file: counts, filters, ordering, windows, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ultimate_agent.extensions import db
from ultimate_agent.models import AITrainingSession, Earning, PerformanceMetric, TaskRecord
from ultimate_agent.models.base import utcnow

SEED_TABLES = {"task_records", "performance_metrics", "earnings", "ai_training_sessions"}
SEED_TASK_ROW = {
    "id": "rec-1640995400", "task_id": "task-1640995300-1234", "task_type": "neural_network_training",
    "start_time": "2023-12-31T15:30:00Z", "end_time": "2023-12-31T15:33:00Z", "duration": 180.5,
    "success": True, "reward": 0.05, "ai_result": {"final_loss": 0.234, "accuracy": 0.897, "epochs": 10},
    "blockchain_tx": "0x1a2b3c...",
}
SEED_PERFORMANCE_ROW = {
    "timestamp": "2023-12-31T16:00:00Z", "cpu_percent": 25.3, "memory_percent": 42.1, "gpu_percent": 0.0,
    "task_count": 1, "efficiency_score": 92.5,
}


def parse_iso_z(value: str) -> datetime:
    """Parse the API's `...Z` timestamps as naive UTC (how the rows are stored)."""
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1])


def add_task(app, n: int, *, task_type: str = "data_processing", status: str = "completed",
             created_at: datetime | None = None, **fields) -> None:
    """Insert one task record numbered `n`."""
    with app.app_context():
        db.session.add(TaskRecord(id=f"rec-{n}", task_id=f"task-{n}", task_type=task_type, status=status,
                                  created_at=created_at or utcnow(), **fields))
        db.session.commit()


def add_metric(app, age: timedelta, cpu: float = 10.0) -> None:
    """Insert one performance sample `age` ago."""
    with app.app_context():
        db.session.add(PerformanceMetric(timestamp=utcnow() - age, cpu_percent=cpu, memory_percent=40.0,
                                         gpu_percent=0.0, disk_percent=50.0, task_count=1,
                                         health_score=80.0, efficiency_score=80.0))
        db.session.commit()


def get(client, headers, path):
    """GET and return (status, body)."""
    response = client.get(path, headers=headers)
    return response.status_code, response.get_json()


# -- /api/database/stats ------------------------------------------------------------------------------------


def test_stats_on_an_empty_database(client, auth_headers):
    status, body = get(client, auth_headers, "/api/database/stats")
    assert status == 200
    assert body["task_records"] == 0
    assert body["performance_metrics"] == 0
    assert body["earnings_records"] == 0
    assert body["ai_training_records"] == 0
    assert set(body["tables"]) >= SEED_TABLES
    assert "alembic_version" not in body["tables"]
    assert body["database_backend"] == "sqlite"


def test_stats_count_inserted_rows_per_table(app, client, auth_headers):
    for n in range(3):
        add_task(app, n)
    for minutes in (1, 2):
        add_metric(app, timedelta(minutes=minutes))
    with app.app_context():
        for amount in (0.05, 0.1, 0.2, 3.0):
            db.session.add(Earning(amount=amount, currency="ETH"))
        db.session.add(AITrainingSession(task_id="task-0", model_type="mlp"))
        db.session.commit()
    status, body = get(client, auth_headers, "/api/database/stats")
    assert status == 200
    assert (body["task_records"], body["performance_metrics"], body["earnings_records"],
            body["ai_training_records"]) == (3, 2, 4, 1)
    for field in ("task_records", "performance_metrics", "earnings_records", "ai_training_records"):
        assert type(body[field]) is int
    assert type(body["database_size_mb"]) is float
    assert isinstance(body["tables"], list) and all(isinstance(t, str) for t in body["tables"])


def test_database_size_is_the_file_on_disk(app, client, auth_headers):
    _, body = get(client, auth_headers, "/api/database/stats")
    db_file = Path(app.instance_path) / "agent.db"
    on_disk = sum(p.stat().st_size for p in (db_file, Path(f"{db_file}-wal")) if p.exists()) / 2**20
    assert body["database_size_mb"] > 0
    assert body["database_size_mb"] == pytest.approx(on_disk, abs=0.5)


def test_database_endpoints_need_credentials(client):
    for path in ("/api/database/stats", "/api/database/tasks", "/api/database/performance"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error_code"] == "UNAUTHORIZED"


def test_read_key_may_read_records(client, read_headers):
    for path in ("/api/database/stats", "/api/database/tasks", "/api/database/performance"):
        assert client.get(path, headers=read_headers).status_code == 200, path


# -- /api/database/tasks ------------------------------------------------------------------------------------


def test_task_rows_have_the_seed_fields_and_types(app, client, auth_headers):
    start = datetime(2023, 12, 31, 15, 30, 0)
    add_task(app, 1, task_type="neural_network_training", start_time=start,
             end_time=start + timedelta(seconds=180), duration=180.5, success=True, reward=0.05,
             ai_result={"final_loss": 0.234, "accuracy": 0.897, "epochs": 10}, blockchain_tx="0x1a2b3c")
    status, body = get(client, auth_headers, "/api/database/tasks?limit=50&task_type=neural_network_training")
    assert status == 200
    assert type(body["total_count"]) is int and type(body["filtered_count"]) is int
    (row,) = body["tasks"]
    for key, example in SEED_TASK_ROW.items():
        assert key in row, key
        assert type(row[key]) is type(example), (key, row[key])
    assert row["id"] == "rec-1"
    assert row["task_id"] == "task-1"
    assert row["start_time"] == "2023-12-31T15:30:00.000Z"
    assert row["end_time"] == "2023-12-31T15:33:00.000Z"
    assert row["ai_result"] == {"final_loss": 0.234, "accuracy": 0.897, "epochs": 10}
    assert row["blockchain_tx"] == "0x1a2b3c"
    assert row["duration"] == 180.5
    assert row["reward"] == 0.05
    assert row["success"] is True


def test_unfinished_task_rows_keep_null_fields(app, client, auth_headers):
    add_task(app, 1, status="queued")
    _, body = get(client, auth_headers, "/api/database/tasks")
    (row,) = body["tasks"]
    assert "ai_result" in row and row["ai_result"] is None
    assert "blockchain_tx" in row and row["blockchain_tx"] is None
    assert row["start_time"] is None and row["end_time"] is None
    assert row["status"] == "queued"
    parse_iso_z(row["created_at"])


def test_tasks_are_newest_first_with_z_timestamps(app, client, auth_headers):
    base = utcnow() - timedelta(hours=1)
    for n in (3, 1, 4, 2):  # inserted out of order: the order must come from created_at
        add_task(app, n, created_at=base + timedelta(minutes=n), start_time=base + timedelta(minutes=n))
    _, body = get(client, auth_headers, "/api/database/tasks")
    assert [row["id"] for row in body["tasks"]] == ["rec-4", "rec-3", "rec-2", "rec-1"]
    created = [parse_iso_z(row["created_at"]) for row in body["tasks"]]
    assert created == sorted(created, reverse=True)
    for row in body["tasks"]:
        assert parse_iso_z(row["start_time"]) == parse_iso_z(row["created_at"])


def test_limit_filters_and_counts(app, client, auth_headers):
    base = utcnow() - timedelta(hours=1)
    for n in range(10):
        task_type = "neural_network_training" if n % 2 else "data_processing"
        status = "failed" if n in (1, 3) else "completed"
        add_task(app, n, task_type=task_type, status=status, created_at=base + timedelta(seconds=n))

    _, body = get(client, auth_headers, "/api/database/tasks?limit=3")
    assert len(body["tasks"]) == 3
    assert body["total_count"] == 10
    assert body["filtered_count"] == 10
    assert [row["id"] for row in body["tasks"]] == ["rec-9", "rec-8", "rec-7"]

    _, body = get(client, auth_headers, "/api/database/tasks?limit=50&task_type=neural_network_training")
    assert {row["task_type"] for row in body["tasks"]} == {"neural_network_training"}
    assert len(body["tasks"]) == 5
    assert (body["total_count"], body["filtered_count"]) == (10, 5)

    _, body = get(client, auth_headers, "/api/database/tasks?status=failed")
    assert sorted(row["id"] for row in body["tasks"]) == ["rec-1", "rec-3"]
    assert (body["total_count"], body["filtered_count"]) == (10, 2)

    _, body = get(client, auth_headers, "/api/database/tasks?task_type=data_processing&status=failed")
    assert body["tasks"] == []
    assert (body["total_count"], body["filtered_count"]) == (10, 0)

    _, body = get(client, auth_headers, "/api/database/tasks?task_type=neural_network_training&limit=2")
    assert [row["id"] for row in body["tasks"]] == ["rec-9", "rec-7"]
    assert body["filtered_count"] == 5

    _, body = get(client, auth_headers, "/api/database/tasks?limit=3&offset=3")
    assert [row["id"] for row in body["tasks"]] == ["rec-6", "rec-5", "rec-4"]

    _, body = get(client, auth_headers, "/api/database/tasks?task_type=no_such_type")
    assert (body["tasks"], body["filtered_count"], body["total_count"]) == ([], 0, 10)


def test_default_limit_is_fifty(app, client, auth_headers):
    base = utcnow() - timedelta(hours=2)
    with app.app_context():
        for n in range(55):
            db.session.add(TaskRecord(id=f"rec-{n}", task_id=f"task-{n}", task_type="data_processing",
                                      status="completed", created_at=base + timedelta(seconds=n)))
        db.session.commit()
    _, body = get(client, auth_headers, "/api/database/tasks")
    assert len(body["tasks"]) == 50
    assert body["total_count"] == body["filtered_count"] == 55
    assert body["tasks"][0]["id"] == "rec-54"


def test_unknown_query_parameters_are_ignored(client, auth_headers):
    status, _ = get(client, auth_headers, "/api/database/tasks?_=1699999999&utm_source=x")
    assert status == 200


@pytest.mark.parametrize(("path", "field"), [
    ("/api/database/tasks?limit=0", "limit"),
    ("/api/database/tasks?limit=abc", "limit"),
    ("/api/database/tasks?limit=1001", "limit"),
    ("/api/database/tasks?limit=-5", "limit"),
    ("/api/database/tasks?offset=-1", "offset"),
    ("/api/database/tasks?status=bogus", "status"),
    ("/api/database/performance?hours=-1", "hours"),
    ("/api/database/performance?hours=0", "hours"),
    ("/api/database/performance?hours=abc", "hours"),
    ("/api/database/performance?hours=100000", "hours"),
])
def test_bad_queries_are_invalid_request(client, auth_headers, path, field):
    response = client.get(path, headers=auth_headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False
    assert body["error_code"] == "INVALID_REQUEST"
    assert isinstance(body["error"], str) and body["error"]
    assert body["details"]["field"] == field
    assert isinstance(body["details"]["message"], str) and body["details"]["message"]


# -- /api/database/performance -----------------------------------------------------------------------------


def test_performance_window_includes_recent_rows_only(app, client, auth_headers):
    add_metric(app, timedelta(minutes=10), cpu=11.0)
    add_metric(app, timedelta(minutes=50), cpu=12.0)
    add_metric(app, timedelta(hours=2), cpu=13.0)
    add_metric(app, timedelta(hours=30), cpu=14.0)

    status, body = get(client, auth_headers, "/api/database/performance?hours=1")
    assert status == 200
    assert body["data_points"] == len(body["metrics"]) == 2
    # Oldest first, and only the two inside the last hour.
    assert [row["cpu_percent"] for row in body["metrics"]] == [12.0, 11.0]
    assert body["timeframe_hours"] == 1
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    assert all(parse_iso_z(row["timestamp"]) >= cutoff for row in body["metrics"])

    _, body = get(client, auth_headers, "/api/database/performance?hours=24")
    assert [row["cpu_percent"] for row in body["metrics"]] == [13.0, 12.0, 11.0]
    assert body["data_points"] == 3

    _, body = get(client, auth_headers, "/api/database/performance?hours=48")
    assert body["data_points"] == len(body["metrics"]) == 4


def test_performance_default_window_is_a_day(app, client, auth_headers):
    add_metric(app, timedelta(hours=23))
    add_metric(app, timedelta(hours=25))
    _, body = get(client, auth_headers, "/api/database/performance")
    assert body["timeframe_hours"] == 24
    assert body["data_points"] == 1


def test_performance_rows_have_the_seed_fields(app, client, auth_headers):
    add_metric(app, timedelta(minutes=5), cpu=25.3)
    _, body = get(client, auth_headers, "/api/database/performance?hours=24")
    assert type(body["data_points"]) is int
    assert isinstance(body["timeframe_hours"], int | float)
    (row,) = body["metrics"]
    for key, example in SEED_PERFORMANCE_ROW.items():
        assert key in row, key
        assert type(row[key]) is type(example), (key, row[key])
    assert row["cpu_percent"] == 25.3
    assert row["task_count"] == 1
    stamp = parse_iso_z(row["timestamp"])
    assert abs(datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5) - stamp) < timedelta(seconds=30)


def test_performance_history_on_the_v4_path(app, client, auth_headers):
    add_metric(app, timedelta(minutes=1))
    status, body = get(client, auth_headers, "/api/v4/database/performance?hours=1")
    assert status == 200
    assert body["data_points"] == 1
