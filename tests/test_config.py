"""Configuration layers: defaults < instance/config.json < ULTIMATE_AGENT_* env < mapping, and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ultimate_agent import create_app
from ultimate_agent.config import DEFAULTS, ConfigError
from ultimate_agent.extensions import db


@pytest.fixture
def direct_apps():
    """Build apps with create_app itself (no INSTANCE_PATH in the mapping); stop them afterwards."""
    apps = []

    def build(config=None):
        app = create_app({"TESTING": True, **(config or {})})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["system_monitor"].stop()
        with app.app_context():
            db.engine.dispose()


def write_config_file(instance: Path, values: dict) -> None:
    """Put a config.json in an instance folder before the app starts."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.json").write_text(json.dumps(values), encoding="utf-8")


def test_defaults_apply_when_nothing_is_configured(app):
    assert app.config["PORT"] == 8080
    assert app.config["HOST"] == "127.0.0.1"
    assert app.config["RATE_LIMIT_GENERAL"] == "1000 per hour"
    assert app.config["RATE_LIMIT_TASKS"] == "100 per hour"
    assert app.config["RATE_LIMIT_REMOTE"] == "50 per hour"
    assert app.config["WEBSOCKET_MAX_CONNECTIONS_PER_IP"] == 10
    assert app.config["JWT_EXPIRES_SECONDS"] == 3600
    assert app.config["ALLOWED_HOSTS"] == [] and app.config["CORS_ORIGINS"] == []
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{Path(app.instance_path) / 'agent.db'}"


def test_each_layer_overrides_the_one_below(app_factory, tmp_path, monkeypatch):
    instance = tmp_path / "layered"
    write_config_file(instance, {
        "AGENT_NAME": "from-file",
        "NODE_URL": "http://file.example:5000",
        "MAX_CONCURRENT_TASKS": 5,
        "MONITOR_SAMPLE_INTERVAL": 7.5,
    })
    monkeypatch.setenv("ULTIMATE_AGENT_NODE_URL", "http://env.example:5000")
    monkeypatch.setenv("ULTIMATE_AGENT_MAX_CONCURRENT_TASKS", "7")
    monkeypatch.setenv("ULTIMATE_AGENT_PORT", "9191")
    app = app_factory(INSTANCE_PATH=str(instance), MAX_CONCURRENT_TASKS=9)

    assert app.config["AGENT_NAME"] == "from-file"                 # file over default
    assert app.config["MONITOR_SAMPLE_INTERVAL"] == 7.5             # file over default
    assert app.config["NODE_URL"] == "http://env.example:5000"      # env over file
    assert app.config["PORT"] == 9191                                # env over default, parsed as JSON
    assert app.config["MAX_CONCURRENT_TASKS"] == 9                   # mapping over env over file
    assert app.config["HOST"] == DEFAULTS["HOST"]                    # untouched default


def test_config_file_changes_runtime_behaviour(app_factory, tmp_path):
    instance = tmp_path / "limited"
    write_config_file(instance, {"RATE_LIMIT_GENERAL": "2 per minute"})
    app = app_factory(INSTANCE_PATH=str(instance))
    key = (instance / "admin_api_key").read_text().strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [client.get("/api/stats", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_env_value_that_is_not_json_stays_a_string(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_AGENT_NAME", "lab node 7")
    monkeypatch.setenv("ULTIMATE_AGENT_RATE_LIMIT_GENERAL", "10 per second")
    app = app_factory()
    assert app.config["AGENT_NAME"] == "lab node 7"
    assert app.config["RATE_LIMIT_GENERAL"] == "10 per second"


def test_nested_env_values_override_one_key(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_ALERT_THRESHOLDS__cpu", '{"warning": 50, "critical": 60}')
    app = app_factory()
    assert app.config["ALERT_THRESHOLDS"]["cpu"] == {"warning": 50, "critical": 60}
    assert app.config["ALERT_THRESHOLDS"]["memory"] == DEFAULTS["ALERT_THRESHOLDS"]["memory"]


def test_numeric_admin_key_from_env_stays_a_string(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_ADMIN_API_KEY", "12345678901234567890")
    app = app_factory()
    assert app.config["ADMIN_API_KEY"] == "12345678901234567890"
    headers = {"Authorization": "Bearer 12345678901234567890"}
    response = app.test_client().get("/api/v4/auth/keys", headers=headers)
    assert response.status_code == 200


def test_instance_path_env_moves_the_instance_folder(direct_apps, tmp_path, monkeypatch):
    instance = tmp_path / "moved" / "instance"
    write_config_file(instance, {"AGENT_NAME": "moved-agent"})
    monkeypatch.setenv("ULTIMATE_AGENT_INSTANCE_PATH", str(instance))
    app = direct_apps()
    assert Path(app.instance_path) == instance.resolve()
    assert app.config["AGENT_NAME"] == "moved-agent"
    for name in ("agent.db", "secret_key", "jwt_secret_key", "agent_id", "admin_api_key"):
        assert (instance / name).exists(), name
    assert str(instance.resolve()) in app.config["SQLALCHEMY_DATABASE_URI"]


def test_instance_path_in_the_mapping_wins_over_the_env(direct_apps, tmp_path, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_INSTANCE_PATH", str(tmp_path / "from-env"))
    app = direct_apps({"INSTANCE_PATH": str(tmp_path / "from-mapping")})
    assert Path(app.instance_path) == (tmp_path / "from-mapping").resolve()
    assert not (tmp_path / "from-env").exists()


def test_database_url_can_be_configured(app_factory, tmp_path):
    db_file = tmp_path / "elsewhere.db"
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}")
    assert db_file.exists()
    assert not (Path(app.instance_path) / "agent.db").exists()


@pytest.mark.parametrize(("key", "value"), [
    ("RATE_LIMIT_GENERAL", "lots"),
    ("RATE_LIMIT_TASKS", "100 per fortnight"),
    ("RATE_LIMIT_REMOTE", 50),
    ("PORT", 0),
    ("PORT", 70000),
    ("PORT", "8080"),
    ("PORT", True),
    ("MAX_CONTENT_LENGTH", 0),
    ("JWT_EXPIRES_SECONDS", 10),
    ("JWT_EXPIRES_SECONDS", 10 ** 6),
    ("WEBSOCKET_MAX_CONNECTIONS_PER_IP", 0),
    ("MAX_CONCURRENT_TASKS", 0),
    ("MAX_CONCURRENT_TASKS", 1000),
    ("MONITOR_SAMPLE_INTERVAL", -1),
    ("ALLOWED_HOSTS", 5),
    ("NODE_URL", None),
    ("ALERT_THRESHOLDS", {"cpu": {"warning": "high"}}),
    ("ADMIN_API_KEY", "short"),
    ("CHAIN_ENABLED", "yes"),
    ("WALLET_SCRYPT_N", 1000),
    ("REWARD_SCHEDULE", {"default": -1}),
    ("REWARD_SCHEDULE", {"default": 5.0}),  # above REWARD_MAX_PER_CLAIM: the contract would refuse it
    ("PRICE_TABLE_USD", {"ETH": "3000"}),
    ("CHAIN_NETWORKS", [{"name": "x", "chain_id": 1, "rpc_url": "ftp://node"}]),
    ("CHAIN_NETWORKS", [{"name": "x", "chain_id": True, "rpc_url": "http://node"}]),
    ("CHAIN_NETWORKS", [{"name": "x", "chain_id": 1, "rpc_url": "http://node", "from_block": -1}]),
    ("CHAIN_NETWORKS", [{"name": "embedded", "chain_id": 1, "rpc_url": "http://node"}]),
    ("CHAIN_PRIMARY_NETWORK", "nowhere"),
])
def test_invalid_mapping_value_is_refused(app_factory, key, value):
    with pytest.raises(ConfigError, match=key):
        app_factory(**{key: value})


def test_invalid_env_value_is_refused(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_PORT", "0")
    with pytest.raises(ConfigError, match="PORT"):
        app_factory()


def test_invalid_config_file_value_is_refused(app_factory, tmp_path):
    instance = tmp_path / "bad-value"
    write_config_file(instance, {"RATE_LIMIT_GENERAL": "lots"})
    with pytest.raises(ConfigError, match="RATE_LIMIT_GENERAL"):
        app_factory(INSTANCE_PATH=str(instance))


def test_config_file_that_is_not_json_is_refused(app_factory, tmp_path):
    instance = tmp_path / "broken"
    instance.mkdir()
    (instance / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="config.json"):
        app_factory(INSTANCE_PATH=str(instance))


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_nested_env_override_does_not_leak_into_defaults_or_other_apps(app_factory, monkeypatch):
    pristine = json.loads(json.dumps(DEFAULTS["ALERT_THRESHOLDS"]))
    monkeypatch.setenv("ULTIMATE_AGENT_ALERT_THRESHOLDS__cpu", '{"warning": 1, "critical": 2}')
    changed = app_factory()
    monkeypatch.delenv("ULTIMATE_AGENT_ALERT_THRESHOLDS__cpu")
    fresh = app_factory()
    assert changed.config["ALERT_THRESHOLDS"]["cpu"] == {"warning": 1, "critical": 2}
    assert fresh.config["ALERT_THRESHOLDS"] == pristine
    assert DEFAULTS["ALERT_THRESHOLDS"] == pristine


def test_apps_do_not_share_mutable_config_values(app_factory):
    first, second = app_factory(), app_factory()
    first.config["ALLOWED_HOSTS"].append("first.example")
    first.config["ALERT_THRESHOLDS"]["cpu"]["warning"] = 10.0
    assert "first.example" not in second.config["ALLOWED_HOSTS"]
    default_warning = DEFAULTS["ALERT_THRESHOLDS"]["cpu"]["warning"]
    assert second.config["ALERT_THRESHOLDS"]["cpu"]["warning"] == default_warning
    assert DEFAULTS["ALLOWED_HOSTS"] == []
