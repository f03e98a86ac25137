"""Task assignments from the node: accepted ones run and report back, duplicates run once, refusals say why."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from agent_support import admin_key_of
from marshmallow import Schema

from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import TaskRecord
from ultimate_agent.models.base import utcnow
from ultimate_agent.network.assignments import AssignmentHandler, local_priority, requirement_refusal
from ultimate_agent.tasks.context import TaskContext, TaskOutcome
from ultimate_agent.tasks.registry import TaskType

from .conftest import wait_registered

RECORDS = [{"qty": q, "region": r} for q, r in [(1, "n"), (4, "s"), (2, "n"), (7, "e"), (3, "s")]]


def assignment(task_id: str, task_type: str = "data_processing", **extra: Any) -> dict[str, Any]:
    """A `central_task_assignment` as the node sends it."""
    return {"task_id": task_id, "task_type": task_type, "priority": "high",
            "config": {"records": RECORDS} if task_type == "data_processing" else {},
            "requirements": {}, "estimated_duration": 5, "reward": 0.01, **extra}


def node_records(app, node_task_id: str) -> list[TaskRecord]:
    """The agent's records of one node task."""
    with app.app_context():
        rows = db.session.scalars(db.select(TaskRecord).where(TaskRecord.node_task_id == node_task_id)).all()
        db.session.expunge_all()
        return list(rows)


def add_blocking_type(app) -> threading.Event:
    """Register a task type that runs until the returned event is set (checks for cancel meanwhile)."""
    release = threading.Event()

    def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
        while not release.wait(0.02):
            ctx.check()
        return TaskOutcome(result={"released": True})

    app.extensions["task_manager"].registry.register(
        TaskType(name="blocking_probe", run=run, schema=Schema, description="test: runs until released",
                 ai_workload=False))
    return release


def test_assignment_runs_and_reports_back(node, connect_agent):
    app, client = connect_agent(node.url)
    key = admin_key_of(app)
    dashboard = socketio.test_client(app, auth={"token": key})
    wait_registered(node, client)
    agent_id = app.config["AGENT_ID"]

    node.assign(agent_id, **assignment("node-task-1"))
    reply = node.wait_for(lambda: node.received("task_assignment_response"))[0]
    assert reply["success"] is True and reply["task_id"] == "node-task-1" and reply["reason"] == "accepted"
    report = node.wait_for(lambda: node.received("central_task_completed"))[0]

    assert report["task_id"] == "node-task-1" and report["agent_id"] == agent_id
    assert report["success"] is True
    assert report["result"]["row_count"] == len(RECORDS)  # the task really ran over the node's records
    assert report["result"]["numeric_stats"]["qty"]["mean"] == pytest.approx(3.4)
    [record] = node_records(app, "node-task-1")
    assert record.status == "completed" and record.task_id == reply["local_task_id"]
    assert record.priority == 8  # "high"
    shown = [e["args"][0] for e in dashboard.get_received() if e["name"] == "task_assignment"]
    assert shown and shown[0]["node_task_id"] == "node-task-1" and shown[0]["task_id"] == record.task_id
    assert shown[0]["reward"] == 0.01
    dashboard.disconnect()


def test_same_assignment_delivered_twice_runs_once(node, connect_agent):
    app, client = connect_agent(node.url)
    wait_registered(node, client)
    agent_id = app.config["AGENT_ID"]

    node.assign(agent_id, **assignment("node-task-dup"))
    node.assign(agent_id, **assignment("node-task-dup"))  # redelivered while the first is in flight
    node.wait_for(lambda: len(node.received("task_assignment_response")) == 2)
    node.wait_for(lambda: node.received("central_task_completed"))
    node.assign(agent_id, **assignment("node-task-dup"))  # and again after it finished
    node.wait_for(lambda: len(node.received("task_assignment_response")) == 3)

    assert len(node_records(app, "node-task-dup")) == 1
    replies = node.received("task_assignment_response")
    assert [r["success"] for r in replies] == [True, True, True]
    assert [bool(r.get("duplicate")) for r in replies].count(True) == 2
    assert all(r["local_task_id"] == replies[0]["local_task_id"] for r in replies)
    # The late duplicate means the node may have missed the report: it is sent again, same content.
    reports = node.wait_for(lambda: len(node.received("central_task_completed")) == 2
                            and node.received("central_task_completed"))
    assert reports[0] == reports[1] and reports[0]["success"] is True


def test_unsupported_type_is_refused_with_a_reason(node, connect_agent):
    app, client = connect_agent(node.url)
    wait_registered(node, client)

    node.assign(app.config["AGENT_ID"], **assignment("node-task-x", task_type="quantum_annealing"))
    reply = node.wait_for(lambda: node.received("task_assignment_response"))[0]
    assert reply == {"success": False, "task_id": "node-task-x", "agent_id": app.config["AGENT_ID"],
                     "reason": "unsupported task type: quantum_annealing"}
    assert node_records(app, "node-task-x") == []
    time.sleep(0.2)
    assert node.received("central_task_completed") == []


def test_agent_rejoins_its_room_after_a_reconnect(node, connect_agent):
    app, client = connect_agent(node.url)
    wait_registered(node, client)
    agent_id = app.config["AGENT_ID"]

    node.drop_socket(agent_id)
    node.wait_for(lambda: len(node.received("join_agent_room")) >= 2)
    wait_registered(node, client)
    node.assign(agent_id, **assignment("node-task-after-reconnect"))
    report = node.wait_for(lambda: node.received("central_task_completed"))[0]
    assert report["task_id"] == "node-task-after-reconnect" and report["success"] is True


def test_busy_agent_refuses_and_a_cancelled_node_task_reports_failure(node, connect_agent):
    app, client = connect_agent(node.url, MAX_CONCURRENT_TASKS=1)
    release = add_blocking_type(app)
    wait_registered(node, client)
    agent_id = app.config["AGENT_ID"]

    node.assign(agent_id, **assignment("node-task-long", task_type="blocking_probe"))
    first = node.wait_for(lambda: node.received("task_assignment_response"))[0]
    node.assign(agent_id, **assignment("node-task-busy"))
    second = node.wait_for(lambda: len(node.received("task_assignment_response")) == 2
                           and node.received("task_assignment_response"))[1]
    assert first["success"] is True
    assert second["success"] is False and second["reason"].startswith("busy: 1 tasks for 1 worker slots")

    with app.app_context():
        app.extensions["task_manager"].cancel(first["local_task_id"])
    release.set()
    report = node.wait_for(lambda: node.received("central_task_completed"))[0]
    assert report["task_id"] == "node-task-long" and report["success"] is False
    assert report["result"]["status"] == "cancelled"


# -- the decision without a socket ------------------------------------------------------------------


@pytest.fixture
def handler(app) -> tuple[AssignmentHandler, list[tuple[str, dict]]]:
    """An assignment handler of a real agent, with the events it would send to the node collected."""
    sent: list[tuple[str, dict]] = []
    return AssignmentHandler(app, lambda: app.config["AGENT_ID"], lambda e, d: sent.append((e, d))), sent


def test_duplicate_check_reads_the_database_not_memory(app, handler):
    # A node task the agent finished before a restart: a fresh handler has never seen it.
    with app.app_context():
        db.session.add(TaskRecord(id="rec-old", task_id="task-old", task_type="data_processing",
                                  status="completed", success=True, result={"rows": 3},
                                  node_task_id="node-task-old", end_time=utcnow()))
        db.session.commit()
    decide, sent = handler

    reply = decide.handle(assignment("node-task-old"))
    assert reply["success"] is True and reply["duplicate"] is True and reply["local_task_id"] == "task-old"
    assert len(node_records(app, "node-task-old")) == 1
    assert sent == [("central_task_completed", {
        "task_id": "node-task-old", "agent_id": app.config["AGENT_ID"], "success": True, "result": {"rows": 3},
        "status": "completed", "local_task_id": "task-old", "task_type": "data_processing", "duration": None,
        "error": None})]


@pytest.mark.parametrize(("config", "payload", "reason"), [
    ({}, {"config": {"records": "not a list"}}, "invalid config"),
    ({}, {"config": ["a list"]}, "invalid config: must be an object"),
    ({"GPU_ENABLED": False}, {"requirements": {"gpu": True}}, "requires a GPU"),
    ({}, {"requirements": {"memory_gb": 10 ** 6}}, "requires 1024000000 MB of memory"),
    ({}, {"requirements": {"cpu_cores": 10 ** 4}}, "requires 10000 CPU cores"),
    ({"NODE_ASSIGNMENT_MAX_MEMORY_PERCENT": 0.01}, {}, "memory use"),
    ({}, {"task_id": ""}, "missing or invalid task_id"),
])
def test_assignment_that_does_not_fit_is_refused(app_factory, config, payload, reason):
    app = app_factory(**config)
    decide = AssignmentHandler(app, lambda: "agent-x", lambda e, d: None)
    reply = decide.handle({**assignment("node-task-refused"), **payload})
    assert reply["success"] is False and reply["reason"].startswith(reason), reply
    assert node_records(app, "node-task-refused") == []


def test_node_priorities_map_to_the_local_scale():
    assert [local_priority(v) for v in ("low", "normal", "HIGH", "critical", 7, 0, 99, "3", None, True)] == \
        [3, 5, 8, 10, 7, 1, 10, 3, 5, 5]


def test_requirements_fit_when_the_machine_has_them():
    assert requirement_refusal({"gpu": False, "memory_mb": 100, "cpu_cores": 1}, False, 200.0) is None
    assert requirement_refusal({"memory_mb": "lots"}, True, 200.0).startswith("requires inf MB")
