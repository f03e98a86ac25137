"""get_logs reads the agent's rotating log file; cleanup_logs deletes old rotated files only."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from agent_support import admin_headers_of


def test_agent_log_goes_to_the_rotating_file_in_the_instance(app):
    logging.getLogger("ultimate_agent.test").warning("written to the file")
    log_file = Path(app.instance_path) / "logs" / "agent.log"
    for handler in logging.getLogger("ultimate_agent").handlers:
        handler.flush()
    assert "WARNING ultimate_agent.test: written to the file" in log_file.read_text()


def test_get_logs_returns_the_last_entries_from_a_level_up(app, remote):
    logger = logging.getLogger("ultimate_agent.test")
    logger.info("routine one")
    logger.error("broken thing")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("with a traceback")
    logger.info("routine two")

    recent = remote("get_logs", lines=2)["result"]
    assert [entry["message"] for entry in recent["entries"]][-1].endswith("routine two")
    assert recent["count"] == 2

    errors = remote("get_logs", lines=10, level="ERROR")["result"]["entries"]
    messages = [entry["message"] for entry in errors]
    assert messages[0] == "broken thing" and messages[1].startswith("with a traceback\nTraceback")
    assert "ValueError: boom" in messages[1]
    assert {entry["level"] for entry in errors} == {"ERROR"}
    assert errors[0]["logger"] == "ultimate_agent.test" and errors[0]["timestamp"][:2] == "20"


def test_get_logs_reads_back_into_rotated_files(app_factory):
    app = app_factory(LOG_MAX_BYTES=2048, LOG_BACKUP_COUNT=3)
    logger = logging.getLogger("ultimate_agent.test")
    for n in range(60):
        logger.warning("line %03d %s", n, "x" * 40)
    log_dir = Path(app.instance_path) / "logs"
    assert (log_dir / "agent.log.1").exists()
    headers = admin_headers_of(app)
    body = app.test_client().post("/api/v4/remote/command", headers=headers, json={
        "command_type": "get_logs", "parameters": {"lines": 40, "level": "WARNING"}}).get_json()
    result = body["result"]
    assert result["count"] == 40 and len(result["files_read"]) >= 2
    numbers = [int(entry["message"].split()[1]) for entry in result["entries"]]
    assert numbers == list(range(20, 60))


def test_cleanup_logs_deletes_old_rotated_files_and_keeps_the_live_one(app_factory):
    # WARNING: the INFO line the command itself logs would rotate the files again.
    app = app_factory(LOG_MAX_BYTES=1024, LOG_BACKUP_COUNT=5, LOG_LEVEL="WARNING")
    logger = logging.getLogger("ultimate_agent.test")
    for n in range(80):
        logger.warning("line %03d %s", n, "y" * 40)
    log_dir = Path(app.instance_path) / "logs"
    rotated = sorted(log_dir.glob("agent.log.*"))
    assert len(rotated) >= 3
    old = time.time() - 10 * 86400
    for path in rotated[1:]:
        os.utime(path, (old, old))
    expected_bytes = sum(path.stat().st_size for path in rotated[1:])
    headers = admin_headers_of(app)
    body = app.test_client().post("/api/v4/remote/command", headers=headers, json={
        "command_type": "cleanup_logs", "parameters": {"older_than_days": 7}}).get_json()
    result = body["result"]
    assert sorted(result["deleted"]) == sorted(path.name for path in rotated[1:])
    assert result["freed_bytes"] == expected_bytes and result["kept"] == [rotated[0].name]
    assert (log_dir / "agent.log").exists() and rotated[0].exists()
    assert not any(path.exists() for path in rotated[1:])


def test_log_commands_fail_cleanly_when_the_file_is_disabled(app_factory):
    app = app_factory(LOG_FILE="")
    headers = admin_headers_of(app)
    body = app.test_client().post("/api/v4/remote/command", headers=headers,
                                  json={"command_type": "get_logs"}).get_json()
    assert body["success"] is False and "disabled" in body["error"]
