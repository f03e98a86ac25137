"""CPU, memory and GPU limits change what the task manager does; optimize_performance measures for real."""

from __future__ import annotations

import time

import psutil
import pytest
import torch
from agent_support import admin_headers_of

from .conftest import task_row, wait_until

LONG_TRAINING = {"type": "neural_network_training", "config": {"epochs": 200, "batch_size": 16}}


@pytest.fixture
def restore_affinity():
    """The CPU limit pins this (test) process: give it all its CPUs back afterwards."""
    process = psutil.Process()
    original = process.cpu_affinity()
    yield original
    process.cpu_affinity(original)


def test_cpu_limit_narrows_threads_concurrency_and_affinity(app, remote, restore_affinity):
    body = remote("set_cpu_limit", percent=1)  # 1%: one core whatever the machine
    assert body["success"] is True
    result = body["result"]
    assert result["cores_allowed"] == 1 and result["max_concurrent_tasks"] == 1
    assert result["torch_threads_per_task"] == 1
    assert psutil.Process().cpu_affinity() == result["cpu_affinity"] and len(result["cpu_affinity"]) == 1

    first = remote("start_task", **LONG_TRAINING)["result"]
    second = remote("start_task", type="neural_network_training", config={"epochs": 1})["result"]
    assert first["status"] == "started" and second["status"] == "queued"
    status = remote("get_status")["result"]
    assert status["limits"]["cpu_limit_percent"] == 1 and status["limits"]["cores_allowed"] == 1
    assert status["tasks"]["scheduler"]["current_tasks"] == 1 and status["tasks"]["scheduler"]["queued_tasks"] == 1

    lifted = remote("set_cpu_limit", percent=100)["result"]
    assert lifted["max_concurrent_tasks"] == 3 and lifted["cpu_affinity"] == restore_affinity
    # The freed slot takes the queued task at once.
    wait_until(lambda: task_row(app, second["task_id"])["status"] in ("running", "completed"), what="second task")
    remote("cancel_task", task_id=first["task_id"])


def test_cpu_limit_is_persisted_and_applied_at_the_next_start(app, app_factory, remote, restore_affinity):
    remote("set_cpu_limit", percent=1)
    restarted = app_factory(INSTANCE_PATH=app.instance_path)
    assert restarted.extensions["task_manager"].max_concurrent == 1
    assert restarted.extensions["task_manager"].threads_per_task == 1


def test_memory_limit_pauses_running_tasks_and_refuses_new_ones_until_lifted(app, remote):
    task_id = remote("start_task", **LONG_TRAINING)["result"]["task_id"]
    wait_until(lambda: (task_row(app, task_id)["progress"] or 0) >= 2, what="progress")

    over = remote("set_memory_limit", mb=1)["result"]  # far below any Python process
    assert over["over_limit"] is True and over["paused_by_limit"] == [task_id]
    wait_until(lambda: task_row(app, task_id)["status"] == "paused", what="paused by the limit")
    held = task_row(app, task_id)["progress"]
    refused = remote("start_task", type="neural_network_training", config={"epochs": 1})
    assert refused["success"] is False and "memory" in refused["details"]["reason"]
    time.sleep(0.5)  # the observation window: a paused task must not move in it
    assert task_row(app, task_id)["progress"] == held
    assert remote("get_status")["result"]["limits"]["memory_over_limit"] is True

    lifted = remote("set_memory_limit", mb=0)["result"]
    assert lifted["over_limit"] is False and lifted["paused_by_limit"] == []
    wait_until(lambda: task_row(app, task_id)["progress"] > held, what="progress after the limit went")
    assert remote("start_task", type="neural_network_training", config={"epochs": 1})["success"] is True
    remote("cancel_task", task_id=task_id)


def test_memory_limit_above_use_changes_nothing(app, remote):
    state = remote("set_memory_limit", mb=1024 * 1024)["result"]
    assert state["over_limit"] is False and state["agent_memory_mb"] > 0
    assert remote("start_task", type="neural_network_training", config={"epochs": 1})["success"] is True
    app.extensions["memory_guard"].stop()


def test_enable_gpu_switches_the_device_for_new_tasks(app, remote):
    off = remote("enable_gpu", enabled=False)
    assert off["success"] is True and off["result"]["device_for_new_tasks"] == "cpu"
    assert app.config["GPU_ENABLED"] is False
    on = remote("enable_gpu", enabled=True)
    if torch.cuda.is_available():
        assert on["success"] is True and on["result"]["device_for_new_tasks"] == "cuda"
    else:
        assert on["success"] is False and on["details"] == {"cuda_available": False}
        assert app.config["GPU_ENABLED"] is False


def test_optimize_performance_measures_and_applies_only_a_clear_gain(app_factory):
    app = app_factory(OPTIMIZE_TRIAL_SECONDS=0.1)
    headers = admin_headers_of(app)
    body = app.test_client().post("/api/v4/remote/command", headers=headers,
                                  json={"command_type": "optimize_performance"}).get_json()
    assert body["success"] is True, body
    result = body["result"]
    assert result["before"]["samples_per_second"] > 0 and len(result["trials"]) >= 1
    assert all(trial["samples_per_second"] > 0 for trial in result["trials"])
    manager = app.extensions["task_manager"]
    assert (manager.max_concurrent, manager.threads_per_task) == (result["after"]["concurrency"],
                                                                  result["after"]["torch_threads"])
    if result["applied"]:
        assert result["after"]["samples_per_second"] >= result["before"]["samples_per_second"] * 1.05
    else:
        assert result["after"] == result["before"]
