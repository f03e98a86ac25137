"""CLI commands that drive a live agent through the SDK: output, --json and exit codes."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
from click.testing import CliRunner

from ultimate_agent.cli import main

LONG_TRAINING = ["-c", "epochs=400", "-c", "batch_size=8"]


@pytest.fixture
def run(live_agent):
    """Run the CLI against `live_agent` as admin; returns the click Result."""
    return cli_for(live_agent)


def cli_for(agent, key: str | None = None):
    """A runner of CLI commands against `agent` (Socket.IO over polling: see tests/live_agent.py)."""
    runner = CliRunner()

    def invoke(*args: str):
        base = ["--url", agent.url, "--api-key", key or agent.admin_key, "--socket-transport", "polling"]
        return runner.invoke(main, [*base, *args], catch_exceptions=False)

    return invoke


def wait_status(run, task_id: str, wanted: str, timeout: float = 30.0) -> None:
    """Poll `tasks show --json` until the task's status is `wanted`."""
    deadline = time.monotonic() + timeout
    while json.loads(run("tasks", "show", task_id, "--json").stdout)["status"] != wanted:
        assert time.monotonic() < deadline, f"task {task_id} never became {wanted}"
        time.sleep(0.05)


def test_status_prints_a_summary_and_json(run, live_agent):
    human = run("status")
    assert human.exit_code == 0, human.output
    assert live_agent.app.config["AGENT_ID"] in human.stdout and "health" in human.stdout
    data = json.loads(run("status", "--json").stdout)
    assert data["agent_id"] == live_agent.app.config["AGENT_ID"] and "health_score" in data["health"]
    assert json.loads(run("--json", "status").stdout)["running"] is True  # the global --json too


def test_tasks_start_wait_shows_progress_and_exits_0(run):
    result = run("tasks", "start", "neural_network_training", "-c", "epochs=3", "--config-json",
                 '{"batch_size": 32}', "--wait")
    assert result.exit_code == 0, result.output
    bars = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert bars and "100.0%" in bars[-1] and "completed" in bars[-1]
    assert "phase=" in result.stderr  # the task's details from the events
    assert [line.split() for line in result.stdout.splitlines() if line.startswith("status")] == [
        ["status", "completed"]]
    assert "accuracy" in result.stdout


def test_tasks_start_wait_json_is_the_final_record(run):
    result = run("tasks", "start", "data_processing", "--wait", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "completed" and record["progress"] == 100.0


def test_watch_of_a_cancelled_task_exits_3(run, live_agent):
    task_id = json.loads(run("tasks", "start", "neural_network_training", *LONG_TRAINING, "--json").stdout)["task_id"]
    wait_status(run, task_id, "running")
    assert json.loads(run("tasks", "pause", task_id, "--json").stdout)["status"] == "paused"
    wait_status(run, task_id, "paused")  # the runner pauses at its next step
    listed = run("tasks", "list")
    assert task_id in listed.stdout and "paused" in listed.stdout
    assert json.loads(run("tasks", "list", "--json").stdout)["current_tasks"][task_id]["status"] == "paused"
    assert "running" in run("tasks", "resume", task_id).stdout
    assert run("tasks", "cancel", task_id).exit_code == 0
    watched = run("tasks", "watch", task_id, "--json")
    assert watched.exit_code == 3
    assert json.loads(watched.stdout)["status"] == "cancelled"
    again = run("tasks", "cancel", task_id, "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["error_code"] == "CONFLICT"


def test_watch_timeout_exits_6(run):
    task_id = json.loads(run("tasks", "start", "neural_network_training", *LONG_TRAINING, "--json").stdout)["task_id"]
    result = run("tasks", "watch", task_id, "--timeout", "0.3")
    assert result.exit_code == 6 and "WAIT_TIMEOUT" in result.stderr
    run("tasks", "cancel", task_id)


def test_unknown_task_is_exit_1_with_the_envelope(run):
    result = run("tasks", "show", "task-nope", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"success": False, "error": "Task not found", "error_code": "TASK_NOT_FOUND",
                                         "details": {"task_id": "task-nope"}}
    human = run("tasks", "show", "task-nope")
    assert human.exit_code == 1 and "TASK_NOT_FOUND" in human.stderr


def test_auth_failures_exit_5_and_an_unreachable_agent_exits_4(live_agent):
    assert cli_for(live_agent, key="ua_bad-key-bad-key-bad")("status").exit_code == 5
    reader = live_agent.make_key(["read"], "reader")
    refused = cli_for(live_agent, key=reader)("tasks", "start", "data_processing")
    assert refused.exit_code == 5 and "FORBIDDEN" in refused.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(main, ["--url", f"http://127.0.0.1:{port}", "--api-key", "k" * 20, "--retries",
                                       "0", "status"])
    assert result.exit_code == 4 and "CONNECTION_ERROR" in result.stderr


def test_bad_options_exit_2(run):
    assert run("tasks", "start", "data_processing", "-c", "no-equals-sign").exit_code == 2
    assert run("tasks", "start", "data_processing", "--priority", "11").exit_code == 2


def test_remote_lists_and_runs_commands(run):
    listing = run("remote")
    assert listing.exit_code == 0 and "get_status" in listing.stdout
    reply = json.loads(run("remote", "get_status", "--command-id", "cmd-cli-1", "--json").stdout)
    assert reply["success"] is True and reply["command_id"] == "cmd-cli-1"
    failed = run("remote", "pause_task", "--param", "task_id=task-unknown")
    assert failed.exit_code == 1 and "TASK_NOT_FOUND" in failed.stderr
    assert run("remote", "set_cpu_limit", "-p", "percent=lots").exit_code == 1


def test_infer_prints_the_prediction(serve, ai_app):
    run = cli_for(serve(ai_app))
    result = run("infer", "sentiment", "This is great!")
    assert result.exit_code == 0 and "positive" in result.stdout
    data = json.loads(run("infer", "sentiment", "This is awful.", "--json").stdout)
    assert data["prediction"] == "negative"
    assert run("infer", "no-such-model", "hi").exit_code == 1


def test_wallet_and_tx_on_chain(serve, chain_app):
    run = cli_for(serve(chain_app))
    wallet = run("wallet")
    assert wallet.exit_code == 0 and chain_app.extensions["chain"].wallet.address in wallet.stdout
    assert json.loads(run("wallet", "--json").stdout)["balances"]["PAIN"] == 1000
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    executed = run("tx", "execute", "task_rewards", "claimReward", "-p", f"task_id={task_id}", "-p", "amount=0.01",
                   "--json")
    assert executed.exit_code == 0, executed.output
    tx_hash = json.loads(executed.stdout)["transaction_hash"]
    assert tx_hash in run("tx", "--limit", "5").stdout
    assert json.loads(run("tx", "--json").stdout)["transactions"][0]["hash"] == tx_hash
    repeat = run("tx", "execute", "task_rewards", "claimReward", "-p", f"task_id={task_id}", "-p", "amount=0.01")
    assert repeat.exit_code == 1 and "already claimed" in repeat.stderr
