"""The real command line: `ultimate-agent serve` (gunicorn) and client commands as separate processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`ultimate-agent ARGS` as a process (python -m, so this checkout's code runs)."""
    return subprocess.run([sys.executable, "-m", "ultimate_agent.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def served_agent(tmp_path):
    """`ultimate-agent serve` on a free port with its own instance folder; stopped afterwards."""
    port = free_port()
    env = {**os.environ, "ULTIMATE_AGENT_INSTANCE_PATH": str(tmp_path / "instance"), "ULTIMATE_AGENT_NODE_URL": ""}
    server = subprocess.Popen([sys.executable, "-m", "ultimate_agent.cli", "serve", "--port", str(port),
                               "--threads", "8"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, url)
        yield url, env
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(server: subprocess.Popen, url: str, timeout: float = 60.0) -> None:
    """Wait until the served agent answers /api/health."""
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, "the agent exited"
        assert time.monotonic() < deadline, "the agent did not come up"
        try:
            if requests.get(f"{url}/api/health", timeout=1).ok:
                return
        except requests.RequestException:  # not listening yet, or still loading the app
            time.sleep(0.2)


def test_served_agent_driven_by_cli_processes_over_websocket(served_agent):
    url, env = served_agent
    env = {**env, "ULTIMATE_AGENT_URL": url}  # and the key comes from the instance's admin key file
    started = time.monotonic()
    done = cli("tasks", "start", "neural_network_training", "-c", "epochs=2", "--wait", "--json", env=env)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "completed" and record["ai_result"]["epochs"] == 2
    assert "100.0% completed" in done.stderr  # the progress line, fed over the socket
    assert time.monotonic() - started < 30

    status = cli("--json", "status", env=env)
    assert status.returncode == 0 and json.loads(status.stdout)["stats"]["tasks_completed"] == 1
    missing = cli("tasks", "watch", "task-missing", env=env)
    assert missing.returncode == 1 and "TASK_NOT_FOUND" in missing.stderr
    refused = cli("--api-key", "ua_not-a-key-not-a-key", "status", env=env)
    assert refused.returncode == 5
