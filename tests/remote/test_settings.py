"""Configuration commands: live updates persisted atomically, reload from the file, whole-document deploys."""

from __future__ import annotations

import json
import logging
from pathlib import Path


def config_file(app) -> Path:
    return Path(app.instance_path) / "config.json"


def test_update_config_applies_live_and_survives_a_restart(app, app_factory, remote):
    body = remote("update_config", values={"MAX_CONCURRENT_TASKS": 1, "LOG_LEVEL": "warning",
                                           "INFERENCE_CACHE_SIZE": 7})
    assert body["success"] is True
    assert body["result"]["updated"] == {"MAX_CONCURRENT_TASKS": 1, "LOG_LEVEL": "WARNING", "INFERENCE_CACHE_SIZE": 7}
    assert body["result"]["previous"]["MAX_CONCURRENT_TASKS"] == 3
    # Live: the scheduler, the logger and the cache changed now.
    assert app.extensions["task_manager"].scheduler_status()["max_concurrent_tasks"] == 1
    assert logging.getLogger("ultimate_agent").level == logging.WARNING
    assert app.extensions["inference_engine"].cache.size == 7
    assert json.loads(config_file(app).read_text())["MAX_CONCURRENT_TASKS"] == 1
    assert not list(Path(app.instance_path).glob(".config.json.*")), "no temporary file left behind"

    restarted = app_factory(INSTANCE_PATH=app.instance_path)
    assert restarted.config["MAX_CONCURRENT_TASKS"] == 1
    assert restarted.extensions["task_manager"].scheduler_status()["max_concurrent_tasks"] == 1


def test_update_config_with_an_unknown_key_or_bad_value_changes_nothing(app, remote):
    config_file(app).write_text(json.dumps({"AGENT_NAME": "kept"}))
    for values, field in (({"MAX_CONCURRENT_TASKS": 2, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                           "SQLALCHEMY_DATABASE_URI"),
                          ({"MAX_CONCURRENT_TASKS": 2, "NOT_A_KEY": 1}, "NOT_A_KEY"),
                          ({"MAX_CONCURRENT_TASKS": 2, "CPU_LIMIT_PERCENT": 0}, "CPU_LIMIT_PERCENT"),
                          ({"MAX_CONCURRENT_TASKS": "2"}, "MAX_CONCURRENT_TASKS"),
                          ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL")):
        body = remote("update_config", values=values)
        assert body["success"] is False and body["details"]["field"] == field, body
    assert app.config["MAX_CONCURRENT_TASKS"] == 3
    assert app.extensions["task_manager"].max_concurrent == 3
    assert json.loads(config_file(app).read_text()) == {"AGENT_NAME": "kept"}


def test_reload_config_applies_an_edited_file(app, remote):
    config_file(app).write_text(json.dumps({"MAX_CONCURRENT_TASKS": 2, "PORT": 9999, "AGENT_NAME": "edited"}))
    body = remote("reload_config")
    assert body["success"] is True
    assert sorted(body["result"]["applied"]) == ["AGENT_NAME", "MAX_CONCURRENT_TASKS"]
    assert body["result"]["requires_restart"] == ["PORT"]
    assert app.config["AGENT_NAME"] == "edited" and app.extensions["task_manager"].max_concurrent == 2
    assert app.config["PORT"] == 8080


def test_reload_config_refuses_an_invalid_file_and_changes_nothing(app, remote):
    config_file(app).write_text(json.dumps({"MAX_CONCURRENT_TASKS": 0, "AGENT_NAME": "never"}))
    body = remote("reload_config")
    assert body["success"] is False and "MAX_CONCURRENT_TASKS" in body["details"]["message"]
    config_file(app).write_text("{not json")
    assert remote("reload_config")["success"] is False
    assert app.config["AGENT_NAME"] is None and app.config["MAX_CONCURRENT_TASKS"] == 3


def test_deploy_configuration_keeps_a_backup_and_replaces_the_file(app, app_factory, remote):
    config_file(app).write_text(json.dumps({"AGENT_NAME": "old"}))
    body = remote("deploy_configuration", config={"AGENT_NAME": "new", "RATE_LIMIT_REMOTE": "20 per hour",
                                                  "HOST": "127.0.0.2"})
    assert body["success"] is True, body
    result = body["result"]
    assert json.loads(Path(result["backup"]).read_text()) == {"AGENT_NAME": "old"}
    assert json.loads(config_file(app).read_text())["AGENT_NAME"] == "new"
    assert sorted(result["applied"]) == ["AGENT_NAME", "RATE_LIMIT_REMOTE"]
    assert result["requires_restart"] == ["HOST"]
    assert app.config["RATE_LIMIT_REMOTE"] == "20 per hour"
    assert app_factory(INSTANCE_PATH=app.instance_path).config["HOST"] == "127.0.0.2"


def test_deploy_configuration_refuses_a_bad_document_and_keeps_the_old_file(app, remote):
    config_file(app).write_text(json.dumps({"AGENT_NAME": "old"}))
    for document, needle in (({"RATE_LIMIT_REMOTE": "lots"}, "RATE_LIMIT_REMOTE"),
                             ({"AGENT_NAME": "x", "MYSTERY": 1}, "MYSTERY")):
        body = remote("deploy_configuration", config=document)
        assert body["success"] is False and needle in json.dumps(body["details"])
    assert json.loads(config_file(app).read_text()) == {"AGENT_NAME": "old"}
    assert not (Path(app.instance_path) / "config_backups").exists()


def test_status_shows_config_without_secrets(app_factory):
    app = app_factory(ADMIN_API_KEY="an-admin-key-long-enough",
                      SQLALCHEMY_DATABASE_URI=None)
    client = app.test_client()
    body = client.post("/api/v4/remote/command", headers={"Authorization": "Bearer an-admin-key-long-enough"},
                       json={"command_type": "get_status"}).get_json()
    config = body["result"]["config"]
    assert config["ADMIN_API_KEY"] == "***" and "an-admin-key" not in json.dumps(body)
    assert "SECRET_KEY" not in config and "JWT_SECRET_KEY" not in config
