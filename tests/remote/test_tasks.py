"""Task commands drive the real task manager."""

from __future__ import annotations

import time

from agent_support import admin_headers_of

from .conftest import task_row, wait_until

LONG_TRAINING = {"type": "neural_network_training", "config": {"epochs": 200, "batch_size": 16}}


def test_paused_task_stands_still_and_continues_after_resume(app, remote):
    task_id = remote("start_task", **LONG_TRAINING)["result"]["task_id"]
    wait_until(lambda: (task_row(app, task_id)["progress"] or 0) >= 2, what="progress")

    assert remote("pause_task", task_id=task_id)["result"]["status"] == "paused"
    wait_until(lambda: task_row(app, task_id)["status"] == "paused", what="paused")
    held = task_row(app, task_id)["progress"]
    time.sleep(0.6)  # the observation window: a paused task must not move in it
    assert task_row(app, task_id)["progress"] == held

    assert remote("resume_task", task_id=task_id)["result"]["status"] == "running"
    wait_until(lambda: task_row(app, task_id)["progress"] > held, what="progress after resume")

    assert remote("cancel_task", task_id=task_id)["success"] is True
    wait_until(lambda: task_row(app, task_id)["status"] == "cancelled", what="cancelled")


def test_priority_change_moves_a_queued_task(app_factory):
    app = app_factory(MAX_CONCURRENT_TASKS=1)
    headers = admin_headers_of(app)
    client = app.test_client()

    def send(command_type, **parameters):
        return client.post("/api/v4/remote/command", headers=headers,
                           json={"command_type": command_type, "parameters": parameters}).get_json()

    blocker = send("start_task", **LONG_TRAINING)["result"]["task_id"]
    low = send("start_task", type="neural_network_training", config={"epochs": 1}, priority=2)["result"]
    high = send("start_task", type="neural_network_training", config={"epochs": 1}, priority=5)["result"]
    assert low["status"] == high["status"] == "queued"
    changed = send("set_task_priority", task_id=low["task_id"], priority=9)
    assert changed["result"] == {"task_id": low["task_id"], "priority": 9, "status": "queued"}
    send("cancel_task", task_id=blocker)
    wait_until(lambda: task_row(app, low["task_id"])["status"] in ("running", "completed"), what="low task start")
    assert task_row(app, high["task_id"])["status"] == "queued" or (
        task_row(app, high["task_id"])["start_time"] >= task_row(app, low["task_id"])["start_time"])


def test_task_commands_on_an_unknown_or_finished_task_answer_success_false(app, remote):
    for command in ("cancel_task", "pause_task", "resume_task"):
        body = remote(command, task_id="task-0-missing")
        assert body["success"] is False and body["error_code"] == "TASK_NOT_FOUND"
    task_id = remote("start_task", type="neural_network_training", config={"epochs": 1})["result"]["task_id"]
    wait_until(lambda: task_row(app, task_id)["status"] == "completed", what="completion")
    body = remote("set_task_priority", task_id=task_id, priority=3)
    assert body["success"] is False and body["error_code"] == "CONFLICT"


def test_start_task_with_a_bad_task_config_is_a_400(client, auth_headers):
    reply = client.post("/api/v4/remote/command", headers=auth_headers, json={
        "command_type": "start_task", "parameters": {"type": "neural_network_training", "config": {"epochs": 0}}})
    assert reply.status_code == 400 and reply.get_json()["details"]["field"] == "epochs"
