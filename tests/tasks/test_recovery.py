"""Crash recovery: an agent process killed with SIGKILL mid-training resumes the task at the next start."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

AGENT_SCRIPT = """
import sys, time
from ultimate_agent import create_app
app = create_app({"INSTANCE_PATH": sys.argv[1], "MONITOR_AUTOSTART": False})
with app.app_context():
    submitted = app.extensions["task_manager"].submit(
        "neural_network_training", {"epochs": 200, "batch_size": 16})
print(submitted["task_id"], flush=True)
while True:
    time.sleep(1)
"""


def record_of(db_file: Path, task_id: str) -> dict:
    with sqlite3.connect(db_file) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM task_records WHERE task_id = ?", (task_id,)).fetchone()
    return dict(row) if row else {}


def test_task_killed_with_its_agent_resumes_from_the_last_epoch_checkpoint(tmp_path, app_factory):
    instance = tmp_path / "agent"
    agent = subprocess.Popen([sys.executable, "-c", AGENT_SCRIPT, str(instance)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        task_id = agent.stdout.readline().strip()
        assert task_id.startswith("task-")
        checkpoint = instance / "checkpoints" / f"{task_id}.pt"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if checkpoint.exists() and record_of(instance / "agent.db", task_id).get("progress", 0) >= 5:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the agent never checkpointed an epoch")
    finally:
        agent.kill()  # SIGKILL: no shutdown hook runs, the record still says "running"
        agent.wait(10)
    crashed = record_of(instance / "agent.db", task_id)
    assert crashed["status"] == "running"
    assert crashed["progress"] < 100

    app = app_factory(INSTANCE_PATH=str(instance))
    manager = app.extensions["task_manager"]
    deadline = time.monotonic() + 120
    while record_of(instance / "agent.db", task_id)["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the recovered task did not finish"
        time.sleep(0.1)
    with app.app_context():
        record = manager.get(task_id)
        assert record.status == "completed", record.error
        assert record.restarts == 1
        assert record.result["resumed_from_epoch"] >= 1
        assert record.ai_result["epochs"] == 200
        assert record.ai_result["accuracy"] > 0.9
    assert not checkpoint.exists(), "the checkpoint is removed once the task is done"
