"""Task endpoints over HTTP with the real task engine and real runners."""

from __future__ import annotations

import time

import pytest
from agent_support import admin_key_of

from ultimate_agent.extensions import socketio


def wait_for_status(client, headers, task_id: str, wanted: set[str], timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()
        if body["status"] in wanted:
            return body
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {wanted}")


def test_seed_training_request_runs_for_real_and_reports_progress_and_completion(app, client, auth_headers,
                                                                                admin_key):
    sock = socketio.test_client(app, auth={"token": admin_key})
    sock.get_received()
    reply = client.post("/api/start_task", headers=auth_headers, json={
        "type": "neural_network_training",
        "config": {"epochs": 3, "batch_size": 32, "learning_rate": 0.003},
    })
    assert reply.status_code == 200, reply.get_json()
    started = reply.get_json()
    assert started["success"] is True and started["task_type"] == "neural_network_training"
    assert started["status"] in {"started", "queued"} and started["estimated_duration"] > 0
    assert started["task_id"].startswith("task-")
    record = wait_for_status(client, auth_headers, started["task_id"], {"completed", "failed"})
    assert record["status"] == "completed", record["error"]
    assert record["success"] is True and record["progress"] == 100.0
    assert record["ai_result"]["epochs"] == 3 and 0.8 < record["ai_result"]["accuracy"] <= 1.0
    assert record["duration"] > 0 and record["end_time"].endswith("Z")

    events = sock.get_received()
    progress = [e["args"][0] for e in events if e["name"] == "task_progress"
                and e["args"][0]["task_id"] == started["task_id"]]
    values = [p["progress"] for p in progress]
    assert values == sorted(values) and values[-1] == 100.0
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3]
    assert {"epoch", "total_epochs", "training_loss", "validation_loss", "accuracy"} <= set(record["history"][-1])
    assert record["history"][-1]["training_loss"] < record["history"][0]["training_loss"]
    completed = [e["args"][0] for e in events if e["name"] == "task_completed"]
    assert completed[0]["task_id"] == started["task_id"] and completed[0]["success"] is True

    stored = client.get("/api/database/tasks?task_type=neural_network_training", headers=auth_headers).get_json()
    assert stored["filtered_count"] == 1 and stored["tasks"][0]["ai_result"]["epochs"] == 3
    assert client.get("/api/stats", headers=auth_headers).get_json()["tasks_completed"] == 1


def test_epochs_out_of_range_is_the_seeds_validation_error(client, auth_headers):
    reply = client.post("/api/start_task", headers=auth_headers,
                        json={"type": "neural_network_training", "config": {"epochs": 0}})
    assert reply.status_code == 400
    body = reply.get_json()
    assert body["error_code"] == "INVALID_REQUEST" and body["details"]["field"] == "epochs"
    assert body["details"]["message"]
    assert client.get("/api/database/tasks", headers=auth_headers).get_json()["total_count"] == 0


@pytest.mark.parametrize("payload, field", [
    ({"type": "bitcoin_mining"}, "type"),
    ({"config": {}}, "type"),
    ({"type": "data_processing", "priority": 11}, "priority"),
    ({"type": "neural_network_training", "config": {"epochs": "ten"}}, "epochs"),
    ({"type": "neural_network_training", "config": {"layers_of_magic": 3}}, "layers_of_magic"),
])
def test_bad_task_requests_name_the_field(client, auth_headers, payload, field):
    reply = client.post("/api/start_task", headers=auth_headers, json=payload)
    assert reply.status_code == 400
    assert reply.get_json()["details"]["field"] == field


def test_unknown_task_is_task_not_found_with_its_id(client, auth_headers):
    for method, path in (("get", "/api/v4/tasks/task-1-x"), ("post", "/api/cancel_task/task-1-x"),
                         ("post", "/api/v4/tasks/task-1-x/pause"), ("post", "/api/v4/tasks/task-1-x/resume")):
        reply = getattr(client, method)(path, headers=auth_headers)
        assert reply.status_code == 404
        assert reply.get_json()["error_code"] == "TASK_NOT_FOUND"
        assert reply.get_json()["details"]["task_id"] == "task-1-x"


def test_cancelling_a_finished_task_is_409(client, auth_headers):
    task_id = client.post("/api/start_task", headers=auth_headers,
                          json={"type": "data_processing"}).get_json()["task_id"]
    wait_for_status(client, auth_headers, task_id, {"completed"})
    reply = client.post(f"/api/cancel_task/{task_id}", headers=auth_headers)
    assert reply.status_code == 409
    assert reply.get_json()["success"] is False and reply.get_json()["details"]["status"] == "completed"


def test_pause_resume_cancel_and_priority_over_http(client, auth_headers):
    task_id = client.post("/api/start_task", headers=auth_headers, json={
        "type": "neural_network_training", "config": {"epochs": 400, "batch_size": 8}}).get_json()["task_id"]
    wait_for_status(client, auth_headers, task_id, {"running"})
    assert client.post(f"/api/v4/tasks/{task_id}/pause", headers=auth_headers).get_json()["status"] == "paused"
    time.sleep(0.5)
    first = client.get(f"/api/v4/tasks/{task_id}", headers=auth_headers).get_json()
    time.sleep(0.5)
    second = client.get(f"/api/v4/tasks/{task_id}", headers=auth_headers).get_json()
    assert first["status"] == second["status"] == "paused"
    assert second["progress"] == first["progress"] < 100
    reply = client.post(f"/api/v4/tasks/{task_id}/priority", headers=auth_headers, json={"priority": 9})
    assert reply.get_json()["priority"] == 9
    assert client.post(f"/api/v4/tasks/{task_id}/resume", headers=auth_headers).get_json()["status"] == "running"
    listing = client.get("/api/tasks", headers=auth_headers).get_json()
    assert listing["current_tasks"][task_id]["priority"] == 9
    assert listing["scheduler_status"]["max_concurrent_tasks"] == 3
    started = time.monotonic()
    cancelled = client.post(f"/api/cancel_task/{task_id}", headers=auth_headers).get_json()
    assert time.monotonic() - started < 1.5
    assert cancelled == {"success": True, "task_id": task_id, "status": "cancelled"}
    assert task_id not in client.get("/api/tasks", headers=auth_headers).get_json()["current_tasks"]


def test_priority_out_of_range_is_rejected(client, auth_headers):
    task_id = client.post("/api/start_task", headers=auth_headers,
                          json={"type": "data_processing"}).get_json()["task_id"]
    reply = client.post(f"/api/v4/tasks/{task_id}/priority", headers=auth_headers, json={"priority": 0})
    assert reply.status_code == 400 and reply.get_json()["details"]["field"] == "priority"


def test_read_key_can_list_but_not_start_tasks(client, read_headers):
    assert client.get("/api/tasks", headers=read_headers).status_code == 200
    reply = client.post("/api/start_task", headers=read_headers, json={"type": "data_processing"})
    assert reply.status_code == 403 and reply.get_json()["error_code"] == "FORBIDDEN"


def test_task_changes_have_their_own_rate_limit(app_factory):
    app = app_factory(RATE_LIMIT_TASKS="2 per minute")
    client = app.test_client()
    key = admin_key_of(app)
    headers = {"Authorization": f"Bearer {key}"}
    codes = [client.post("/api/start_task", headers=headers, json={"type": "data_processing"}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/tasks", headers=headers).status_code == 200, "reads are not task changes"


def test_task_types_lists_every_builtin_type_with_documented_config(client, auth_headers):
    body = client.get("/api/v4/task_types", headers=auth_headers).get_json()
    names = {t["name"] for t in body["task_types"]}
    assert {"neural_network_training", "cnn_training", "transformer_training", "reinforcement_learning",
            "federated_learning", "hyperparameter_optimization", "gradient_computation",
            "model_inference_batch", "data_preprocessing", "sentiment_analysis", "data_processing"} == names
    nn = next(t for t in body["task_types"] if t["name"] == "neural_network_training")
    assert nn["config"]["epochs"]["default"] == 20 and nn["config"]["epochs"]["type"] == "integer"
    capabilities = client.get("/api/capabilities", headers=auth_headers).get_json()
    assert set(capabilities["task_types"]) == names


def test_subscribing_to_a_task_room_delivers_its_events(app, client, auth_headers, admin_key):
    sock = socketio.test_client(app, auth={"token": admin_key})
    task_id = client.post("/api/start_task", headers=auth_headers,
                          json={"type": "data_processing"}).get_json()["task_id"]
    sock.emit("subscribe_task", {"task_id": task_id})
    wait_for_status(client, auth_headers, task_id, {"completed"})
    names = [e["name"] for e in sock.get_received()]
    assert "subscribed" in names and "task_completed" in names
