"""SDK task calls and live task events against a live agent."""

from __future__ import annotations

import threading
import time

import pytest

from ultimate_agent.client import Conflict, InvalidRequest, TaskNotFound, TaskWaitTimeout

LONG_TRAINING = {"epochs": 400, "batch_size": 8}


def wait_status(client, task_id: str, wanted: set[str], timeout: float = 30.0) -> dict:
    """Poll the task record until its status is one of `wanted`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = client.get_task(task_id)
        if record["status"] in wanted:
            return record
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {wanted}")


def test_wait_for_task_returns_the_final_record_and_reports_progress(live_agent):
    client = live_agent.client()
    started = client.start_task("neural_network_training", {"epochs": 3, "batch_size": 32})
    updates: list[dict] = []
    record = client.wait_for_task(started["task_id"], on_progress=updates.append, timeout=120)
    assert record["status"] == "completed" and record["success"] is True
    assert record["task_id"] == started["task_id"] and record["progress"] == 100.0
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3]
    assert updates and all(u["task_id"] == started["task_id"] for u in updates)
    values = [u["progress"] for u in updates]
    assert values == sorted(values) and values[-1] == 100.0
    assert updates[-1]["status"] == "completed"
    # The runner's details ride along (a state change announced before its first report has none).
    detailed = [u for u in updates if u["details"]]
    assert detailed and all(u["details"].get("phase") for u in detailed)


def test_live_events_reach_handlers_registered_with_on(live_agent):
    client = live_agent.client()
    completed: list[dict] = []
    done = threading.Event()

    def on_completed(data: dict) -> None:
        completed.append(data)
        done.set()

    client.on("task_completed", on_completed)
    task_id = client.start_task("data_processing")["task_id"]
    assert done.wait(60)
    assert completed[0]["task_id"] == task_id and completed[0]["success"] is True
    assert "reward" in completed[0]
    client.off("task_completed", on_completed)


def test_wait_for_an_already_finished_task_returns_at_once(live_agent):
    client = live_agent.client()
    task_id = client.start_task("data_processing")["task_id"]
    wait_status(client, task_id, {"completed"})
    started = time.monotonic()
    assert client.wait_for_task(task_id, timeout=10)["status"] == "completed"
    assert time.monotonic() - started < 2


def test_wait_for_task_times_out_with_the_last_record(live_agent):
    client = live_agent.client()
    task_id = client.start_task("neural_network_training", LONG_TRAINING)["task_id"]
    with pytest.raises(TaskWaitTimeout) as caught:
        client.wait_for_task(task_id, timeout=0.5)
    assert caught.value.details["last"]["status"] in {"queued", "running"}
    client.cancel_task(task_id)


def test_pause_priority_resume_and_cancel_end_the_wait(live_agent):
    client = live_agent.client()
    task_id = client.start_task("neural_network_training", LONG_TRAINING, priority=3)["task_id"]
    wait_status(client, task_id, {"running"})
    assert client.pause_task(task_id)["status"] == "paused"
    assert client.set_task_priority(task_id, 8)["priority"] == 8
    assert client.get_tasks()["current_tasks"][task_id]["priority"] == 8
    assert client.resume_task(task_id)["status"] == "running"
    ended: dict = {}
    waiter = threading.Thread(target=lambda: ended.update(client.wait_for_task(task_id, timeout=30)))
    waiter.start()
    time.sleep(0.3)
    assert client.cancel_task(task_id)["status"] == "cancelled"
    waiter.join(30)
    assert ended["status"] == "cancelled" and ended["success"] is False


def test_task_errors_are_typed(live_agent):
    client = live_agent.client()
    with pytest.raises(TaskNotFound) as missing:
        client.get_task("task-does-not-exist")
    assert missing.value.status == 404 and missing.value.details["task_id"] == "task-does-not-exist"
    with pytest.raises(InvalidRequest) as invalid:
        client.start_task("neural_network_training", {"epochs": "ten"})
    assert "epochs" in invalid.value.details["field"]
    task_id = client.start_task("data_processing")["task_id"]
    client.wait_for_task(task_id, timeout=60)
    with pytest.raises(Conflict) as finished:
        client.cancel_task(task_id)
    assert finished.value.details["status"] == "completed"


def test_task_types_list_the_runnable_types(live_agent):
    types = {t["name"]: t for t in live_agent.client().get_task_types()["task_types"]}
    assert "neural_network_training" in types and types["neural_network_training"]["training"] is True
