"""TaskManager: scheduling, control, throttling, failure and recovery, with small real runners.

The runners here compute real sums step by step; a test-owned `gate` event lets a test hold a runner
between steps so ordering and control can be asserted without timing races.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from agent_support import admin_key_of
from marshmallow import Schema, fields, validate

from ultimate_agent.errors import Conflict, InvalidRequest, TaskNotFound
from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import AITrainingSession, TaskRecord
from ultimate_agent.tasks.context import TaskContext, TaskOutcome
from ultimate_agent.tasks.manager import TaskManager
from ultimate_agent.tasks.registry import TaskType, TaskTypeRegistry


class Harness:
    """Shared state the test runners report into."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.active = 0
        self.max_active = 0
        self.steps_done = 0
        self.hold_from = 0  # the gate only holds steps from this one on


class StepConfig(Schema):
    steps = fields.Integer(load_default=5, validate=validate.Range(min=1, max=100000))
    label = fields.String(load_default="")
    fail_at = fields.Integer(load_default=None, allow_none=True)


def make_registry(h: Harness) -> TaskTypeRegistry:
    def sum_squares(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
        with h.lock:
            h.started.append(config["label"] or ctx.task_id)
            h.active += 1
            h.max_active = max(h.max_active, h.active)
        try:
            state = ctx.load_checkpoint() or {"step": 0, "total": 0}
            resumed = state["step"] if state["step"] else None
            for step in range(state["step"], config["steps"]):
                while step >= h.hold_from and not h.gate.wait(0.05):
                    ctx.check()
                ctx.check()  # the batch boundary: cancel and pause take effect here
                if config["fail_at"] is not None and step == config["fail_at"]:
                    raise ValueError(f"bad value at step {step}")
                state = {"step": step + 1, "total": state["total"] + (step + 1) ** 2}
                ctx.save_checkpoint(state)
                ctx.progress(100.0 * (step + 1) / config["steps"], {"step": step + 1})
                h.steps_done += 1
            return TaskOutcome(result={"sum_of_squares": state["total"], "resumed_from_step": resumed},
                               ai_result={"final_loss": 0.0, "accuracy": 1.0, "epochs": config["steps"]},
                               history=[{"epoch": i + 1} for i in range(config["steps"])])
        finally:
            with h.lock:
                h.active -= 1

    registry = TaskTypeRegistry()
    registry.register(TaskType(name="sum_squares", run=sum_squares, schema=StepConfig, description="test",
                               training=True, work_units=lambda c: c["steps"], default_estimate_seconds=2.0))
    return registry


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def single_slot(app_factory, harness):
    """One worker slot and a held runner: the first task occupies it, the next ones wait in the queue."""
    app = app_factory(TASKS_AUTOSTART=False, MAX_CONCURRENT_TASKS=1)
    manager = TaskManager(app, make_registry(harness))
    manager.start()
    harness.gate.clear()
    yield app, manager
    harness.gate.set()
    manager.shutdown(timeout=5)


@pytest.fixture
def manager_app(app_factory, harness):
    app = app_factory(TASKS_AUTOSTART=False, MAX_CONCURRENT_TASKS=2)
    manager = TaskManager(app, make_registry(harness))
    app.extensions["task_manager"] = manager
    manager.start()
    yield app
    harness.gate.set()
    manager.shutdown(timeout=5)


def connect(app):
    key = admin_key_of(app)
    return socketio.test_client(app, auth={"token": key})


def expected_sum(steps: int) -> int:
    return sum((i + 1) ** 2 for i in range(steps))


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def status_of(app, task_id: str) -> str:
    with app.app_context():
        return db.session.scalar(db.select(TaskRecord.status).where(TaskRecord.task_id == task_id))


def test_task_runs_to_completion_with_result_record_and_events(manager_app):
    sock = connect(manager_app)
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        submitted = manager.submit("sum_squares", {"steps": 4}, priority=5)
    assert submitted["status"] == "started"
    assert manager.wait(submitted["task_id"], timeout=10)
    with manager_app.app_context():
        record = manager.get(submitted["task_id"])
        assert record.status == "completed" and record.success is True
        assert record.result["sum_of_squares"] == expected_sum(4)
        assert record.progress == 100.0 and record.duration > 0 and record.end_time is not None
        assert record.ai_result["epochs"] == 4
        session = db.session.scalar(db.select(AITrainingSession).where(
            AITrainingSession.task_id == record.task_id))
        assert session.status == "completed" and session.epochs == 4
    events = sock.get_received()
    progress = [e["args"][0] for e in events if e["name"] == "task_progress"]
    values = [p["progress"] for p in progress]
    assert values == sorted(values), "progress never goes backwards"
    completed = [e["args"][0] for e in events if e["name"] == "task_completed"]
    assert len(completed) == 1
    assert completed[0]["success"] is True and completed[0]["reward"] == 0.0
    assert completed[0]["result"]["sum_of_squares"] == expected_sum(4)
    assert set(completed[0]) >= {"task_id", "task_type", "success", "result", "duration", "reward"}


def test_higher_priority_runs_first_and_fifo_within_a_priority(single_slot, harness):
    app, manager = single_slot
    with app.app_context():
        blocker = manager.submit("sum_squares", {"steps": 1, "label": "blocker"})
        wait_for(lambda: harness.started == ["blocker"])
        for label, priority in (("low", 2), ("high-a", 9), ("mid", 5), ("high-b", 9)):
            assert manager.submit("sum_squares", {"steps": 1, "label": label}, priority)["status"] == "queued"
    harness.gate.set()
    manager.wait(blocker["task_id"], 5)
    wait_for(lambda: len(harness.started) == 5)
    assert harness.started == ["blocker", "high-a", "high-b", "mid", "low"]


def test_no_more_than_max_concurrent_tasks_run_at_once(manager_app, harness):
    manager = manager_app.extensions["task_manager"]
    harness.gate.clear()
    with manager_app.app_context():
        ids = [manager.submit("sum_squares", {"steps": 2})["task_id"] for _ in range(5)]
        wait_for(lambda: harness.active == 2)
        assert manager.scheduler_status()["current_tasks"] == 2
        assert manager.scheduler_status()["queued_tasks"] == 3
    harness.gate.set()
    wait_for(lambda: all(status_of(manager_app, i) == "completed" for i in ids))
    assert harness.max_active == 2


def test_cancel_stops_a_running_task_within_a_second(manager_app, harness):
    manager = manager_app.extensions["task_manager"]
    harness.gate.clear()
    with manager_app.app_context():
        task_id = manager.submit("sum_squares", {"steps": 50})["task_id"]
        wait_for(lambda: harness.active == 1)
        started = time.monotonic()
        reply = manager.cancel(task_id)
        assert time.monotonic() - started < 1.0
    assert reply["status"] == "cancelled"
    assert status_of(manager_app, task_id) == "cancelled"


def test_cancel_of_a_queued_task_never_runs_it(single_slot, harness):
    app, manager = single_slot
    with app.app_context():
        manager.submit("sum_squares", {"steps": 1, "label": "first"})
        queued = manager.submit("sum_squares", {"steps": 1, "label": "second"})["task_id"]
        assert manager.cancel(queued)["status"] == "cancelled"
    harness.gate.set()
    time.sleep(0.3)
    assert harness.started == ["first"]
    assert status_of(app, queued) == "cancelled"


def test_cancelling_a_finished_task_is_a_conflict_and_unknown_is_not_found(manager_app):
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        task_id = manager.submit("sum_squares", {"steps": 1})["task_id"]
        manager.wait(task_id, 5)
        with pytest.raises(Conflict):
            manager.cancel(task_id)
        with pytest.raises(TaskNotFound) as missing:
            manager.cancel("task-0-nope")
        assert missing.value.details == {"task_id": "task-0-nope"}


def test_pause_holds_a_running_task_and_resume_finishes_it(manager_app, harness):
    manager = manager_app.extensions["task_manager"]
    harness.gate.clear()
    with manager_app.app_context():
        task_id = manager.submit("sum_squares", {"steps": 5})["task_id"]
        wait_for(lambda: harness.active == 1)
        assert manager.pause(task_id)["status"] == "paused"
    harness.gate.set()  # the runner could go on now, but it is paused at its next check()
    time.sleep(0.5)
    assert status_of(manager_app, task_id) == "paused"
    with manager_app.app_context():
        assert manager.get(task_id).progress == 0.0, "a paused task makes no progress"
        assert manager.resume(task_id)["status"] == "running"
    assert manager.wait(task_id, 20)
    with manager_app.app_context():
        record = manager.get(task_id)
        assert record.status == "completed"
        assert record.result["sum_of_squares"] == expected_sum(5)


def test_pausing_a_queued_task_holds_it_until_resumed(single_slot, harness):
    app, manager = single_slot
    with app.app_context():
        first = manager.submit("sum_squares", {"steps": 1, "label": "first"})["task_id"]
        held = manager.submit("sum_squares", {"steps": 1, "label": "held"})["task_id"]
        manager.pause(held)
        harness.gate.set()
        manager.wait(first, 5)
        time.sleep(0.2)
        assert harness.started == ["first"] and status_of(app, held) == "paused"
        manager.resume(held)
    wait_for(lambda: status_of(app, held) == "completed")


def test_priority_change_reorders_the_queue(single_slot, harness):
    app, manager = single_slot
    with app.app_context():
        manager.submit("sum_squares", {"steps": 1, "label": "blocker"})
        wait_for(lambda: harness.started == ["blocker"])
        manager.submit("sum_squares", {"steps": 1, "label": "a"}, 5)
        late = manager.submit("sum_squares", {"steps": 1, "label": "b"}, 5)["task_id"]
        assert manager.set_priority(late, 8)["priority"] == 8
    harness.gate.set()
    wait_for(lambda: len(harness.started) == 3)
    assert harness.started == ["blocker", "b", "a"]


def test_progress_events_are_throttled_but_the_last_one_arrives(manager_app):
    sock = connect(manager_app)
    sock.get_received()
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        task_id = manager.submit("sum_squares", {"steps": 3000})["task_id"]
    started = time.monotonic()
    manager.wait(task_id, 30)
    elapsed = time.monotonic() - started
    progress = [e["args"][0] for e in sock.get_received() if e["name"] == "task_progress"]
    running = [p for p in progress if p["task_id"] == task_id and p["status"] == "running"]
    assert len(running) <= elapsed / 0.1 + 4, f"{len(running)} events in {elapsed:.2f}s"
    assert len(running) < 3000
    assert any(p["progress"] == 100.0 for p in progress)


def test_a_failing_runner_is_recorded_with_its_error(manager_app):
    sock = connect(manager_app)
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        task_id = manager.submit("sum_squares", {"steps": 5, "fail_at": 2})["task_id"]
        manager.wait(task_id, 5)
        record = manager.get(task_id)
        assert record.status == "failed" and record.success is False
        assert record.error == "ValueError: bad value at step 2"
    done = [e["args"][0] for e in sock.get_received() if e["name"] == "task_completed"]
    assert done and done[0]["success"] is False and "step 2" in done[0]["error"]


def test_invalid_config_and_unknown_type_are_rejected_before_anything_is_stored(manager_app):
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        with pytest.raises(InvalidRequest) as bad:
            manager.submit("sum_squares", {"steps": 0})
        assert bad.value.details["field"] == "steps"
        with pytest.raises(InvalidRequest) as unknown:
            manager.submit("mining", {})
        assert unknown.value.details["field"] == "type"
        assert db.session.scalar(db.select(db.func.count()).select_from(TaskRecord)) == 0


def test_interrupted_task_resumes_from_its_checkpoint_in_a_new_manager(app_factory, harness):
    app = app_factory(TASKS_AUTOSTART=False, MAX_CONCURRENT_TASKS=1)
    first = TaskManager(app, make_registry(harness))
    first.start()
    harness.hold_from = 5  # five steps run, then the runner waits mid-task, as in a long epoch
    harness.gate.clear()
    with app.app_context():
        task_id = first.submit("sum_squares", {"steps": 200})["task_id"]
    wait_for(lambda: harness.steps_done == 5)
    first.shutdown(timeout=5)
    harness.gate.set()
    assert status_of(app, task_id) == "interrupted"
    second = TaskManager(app, make_registry(harness))
    second.start()
    try:
        wait_for(lambda: status_of(app, task_id) == "completed", timeout=30)
        with app.app_context():
            record = second.get(task_id)
            assert record.result["sum_of_squares"] == expected_sum(200)
            assert record.result["resumed_from_step"] == 5
            assert record.restarts == 1
    finally:
        second.shutdown(timeout=5)


def test_estimated_duration_learns_from_past_runs(manager_app):
    manager = manager_app.extensions["task_manager"]
    with manager_app.app_context():
        first = manager.submit("sum_squares", {"steps": 10})
        assert first["estimated_duration"] == pytest.approx(2.0 * 10 / 5)  # default, scaled by work units
        manager.wait(first["task_id"], 5)
        measured = manager.get(first["task_id"]).duration
        second = manager.submit("sum_squares", {"steps": 20})
        assert second["estimated_duration"] == pytest.approx(round(measured / 10 * 20, 1), abs=0.11)
