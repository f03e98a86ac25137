"""restart_agent and shutdown_agent on a real agent process; update_agent against a real git checkout."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
from agent_support import admin_headers_of

# A standalone agent driven over stdin: each line is a remote command body, each reply one JSON line.
AGENT_SCRIPT = """
import json, os, sys
from pathlib import Path
from ultimate_agent import create_app
app = create_app({"INSTANCE_PATH": sys.argv[1], "MONITOR_AUTOSTART": False, "AI_MODELS_AUTOLOAD": False})
key = (Path(sys.argv[1]) / "admin_api_key").read_text().strip()
client = app.test_client()
print(json.dumps({"ready": os.getpid()}), flush=True)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    reply = client.post("/api/v4/remote/command", json=json.loads(line),
                        headers={"Authorization": f"Bearer {key}"})
    print(json.dumps(reply.get_json()), flush=True)
"""
LONG_TRAINING = {"type": "neural_network_training", "config": {"epochs": 200, "batch_size": 16}}


class Agent:
    """A real agent process and its stdin/stdout command channel."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.process = subprocess.Popen([sys.executable, "-c", AGENT_SCRIPT, str(instance)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def read(self) -> dict:
        line = self.process.stdout.readline()
        assert line, f"the agent exited (code {self.process.poll()})"
        return json.loads(line)

    def command(self, command_type: str, **parameters) -> dict:
        self.process.stdin.write(json.dumps({"command_type": command_type, "parameters": parameters}) + "\n")
        self.process.stdin.flush()
        return self.read()

    def record(self, task_id: str) -> dict:
        with sqlite3.connect(self.instance / "agent.db") as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM task_records WHERE task_id = ?", (task_id,)).fetchone()
        return dict(row) if row else {}

    def wait_for_progress(self, task_id: str, at_least: float, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.record(task_id)
            if (record.get("progress") or 0) >= at_least:
                return record
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} never reached {at_least}%")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def agent(tmp_path):
    running = Agent(tmp_path / "agent")
    yield running
    running.stop()


def test_restart_replaces_the_process_and_the_running_task_resumes_from_its_checkpoint(agent):
    first_pid = agent.read()["ready"]
    task_id = agent.command("start_task", **LONG_TRAINING)["result"]["task_id"]
    agent.wait_for_progress(task_id, 3)

    reply = agent.command("restart_agent", delay=0)
    assert reply["success"] is True
    assert reply["result"]["action"] == "restart_scheduled" and reply["result"]["mode"] == "standalone"

    # The same process image starts again (exec keeps the pid) and recovers the interrupted task.
    assert agent.read()["ready"] == first_pid
    status = agent.command("get_status")["result"]
    assert status["uptime_seconds"] < 60 and status["accepting_tasks"] is True
    before = agent.record(task_id)
    assert before["restarts"] == 1 and before["status"] in ("queued", "running")
    resumed = agent.wait_for_progress(task_id, before["progress"] + 2)
    assert resumed["status"] == "running"
    assert (agent.instance / "checkpoints" / f"{task_id}.pt").exists()


def test_shutdown_checkpoints_the_running_task_and_exits_cleanly(agent, app_factory):
    agent.read()
    task_id = agent.command("start_task", **LONG_TRAINING)["result"]["task_id"]
    agent.wait_for_progress(task_id, 3)

    reply = agent.command("shutdown_agent", delay=0)
    assert reply["success"] is True and reply["result"]["action"] == "shutdown_scheduled"
    assert agent.process.wait(60) == 0
    stopped = agent.record(task_id)
    assert stopped["status"] == "interrupted" and stopped["progress"] < 100
    assert (agent.instance / "checkpoints" / f"{task_id}.pt").exists()

    # The next start picks it up again.
    app = app_factory(INSTANCE_PATH=str(agent.instance))
    with app.app_context():
        record = app.extensions["task_manager"].get(task_id)
        assert record.restarts == 1 and record.status in ("queued", "running")
        app.extensions["task_manager"].cancel(task_id)


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path) -> tuple[Path, str]:
    """A clone one commit behind its upstream; returns the clone and the upstream's head."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "config", "user.email", "t@example.com")
    git(upstream, "config", "user.name", "t")
    (upstream / "requirements.txt").write_text("click\n")  # installed already: pip has nothing to fetch
    git(upstream, "add", ".")
    git(upstream, "commit", "-qm", "first")
    clone = tmp_path / "install"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    (upstream / "NEWS").write_text("second\n")
    git(upstream, "add", ".")
    git(upstream, "commit", "-qm", "second")
    return clone, git(upstream, "rev-parse", "HEAD")


def run(client, headers, command_type, **parameters):
    return client.post("/api/v4/remote/command", headers=headers,
                       json={"command_type": command_type, "parameters": parameters})


def test_update_agent_is_refused_unless_self_update_is_allowed(client, auth_headers):
    body = run(client, auth_headers, "update_agent").get_json()
    assert body["success"] is False and body["details"]["setting"] == "ALLOW_SELF_UPDATE"


def test_update_agent_fast_forwards_the_checkout_and_reinstalls_requirements(app_factory, checkout):
    clone, upstream_head = checkout
    before = git(clone, "rev-parse", "HEAD")
    app = app_factory(ALLOW_SELF_UPDATE=True, AGENT_INSTALL_DIR=str(clone))
    headers = admin_headers_of(app)
    # restart=false: a restart here would replace the test process itself (the restart test covers it).
    body = run(app.test_client(), headers, "update_agent", restart=False).get_json()
    assert body["success"] is True, body
    result = body["result"]
    assert result["before"] == before and result["after"] == upstream_head and result["updated"] is True
    assert git(clone, "rev-parse", "HEAD") == upstream_head and (clone / "NEWS").exists()
    assert "requirement already satisfied: click" in result["pip_output"].lower()
    assert result["restart"] is None


def test_update_agent_reports_a_checkout_that_cannot_fast_forward(app_factory, checkout):
    clone, _ = checkout
    git(clone, "config", "user.email", "t@example.com")
    git(clone, "config", "user.name", "t")
    (clone / "LOCAL").write_text("diverged\n")
    git(clone, "add", ".")
    git(clone, "commit", "-qm", "local")
    local_head = git(clone, "rev-parse", "HEAD")
    app = app_factory(ALLOW_SELF_UPDATE=True, AGENT_INSTALL_DIR=str(clone))
    headers = admin_headers_of(app)
    body = run(app.test_client(), headers, "update_agent", restart=False).get_json()
    assert body["success"] is False and body["error"] == "git pull --ff-only failed"
    assert git(clone, "rev-parse", "HEAD") == local_head


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_restart_under_gunicorn_reloads_the_worker_and_keeps_the_master(tmp_path):
    instance, port = tmp_path / "served", free_port()
    env = {**os.environ, "ULTIMATE_AGENT_INSTANCE_PATH": str(instance), "ULTIMATE_AGENT_MONITOR_AUTOSTART": "false"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", "4",
                               "-b", f"127.0.0.1:{port}", "--graceful-timeout", "20", "wsgi:app"],
                              cwd=Path(__file__).resolve().parents[2], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/v4/remote/command"
    try:
        deadline = time.monotonic() + 60
        while not (instance / "admin_api_key").exists() or not _answers(url):
            assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not come up"
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {(instance / 'admin_api_key').read_text().strip()}"}

        def command(command_type, **parameters):
            return requests.post(url, headers=headers, timeout=30,
                                 json={"command_type": command_type, "parameters": parameters}).json()

        worker_pid = command("get_status")["result"]["pid"]
        reply = command("restart_agent", delay=0)
        assert reply["result"]["mode"] == "gunicorn"
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "no fresh worker answered"
            try:
                new_pid = command("get_status")["result"]["pid"]
            except (requests.RequestException, KeyError, ValueError):
                new_pid = worker_pid
            if new_pid != worker_pid:
                break
            time.sleep(0.2)
        assert server.poll() is None, "the master keeps running"
        deadline = time.monotonic() + 30
        while psutil_alive(worker_pid):  # the old worker stops gracefully once the master tells it to
            assert time.monotonic() < deadline, "the old worker kept running"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        requests.get(url.replace("/remote/command", "/health"), timeout=2)
        return True
    except requests.RequestException:
        return False


def psutil_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
