"""Helpers for the remote command tests: run a command over the real HTTP endpoint."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def remote(client, auth_headers) -> Callable[..., dict]:
    """Run a remote command as admin; returns the reply body (asserting HTTP 200)."""

    def send(command_type: str, **parameters) -> dict:
        reply = client.post("/api/v4/remote/command", headers=auth_headers,
                            json={"command_type": command_type, "parameters": parameters})
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()

    return send


def task_row(app, task_id: str) -> dict:
    """A task's stored record, read straight from the database file."""
    with sqlite3.connect(Path(app.instance_path) / "agent.db") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM task_records WHERE task_id = ?", (task_id,)).fetchone()
    return dict(row) if row else {}


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
