"""Configuration defaults, layered loading and validation."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from flask import Flask
from limits import parse_many

ENV_PREFIX = "ULTIMATE_AGENT"
INSTANCE_PATH_ENV = f"{ENV_PREFIX}_INSTANCE_PATH"
DEFAULT_NODE_URL = "http://srvnodes.peoplesainetwork.com:5000"

DEFAULTS: dict[str, Any] = {
    "AGENT_NAME": None,
    "HOST": "127.0.0.1",
    "PORT": 8080,
    "LOG_LEVEL": "INFO",
    # Database: SQLite in the instance folder unless a URL is configured.
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # Requests larger than this are refused with 413 before they are parsed.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Auth
    "ADMIN_API_KEY": None,
    "JWT_EXPIRES_SECONDS": 3600,
    # Rate limits (seed: Rate Limiting)
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATE_LIMIT_GENERAL": "1000 per hour",
    "RATE_LIMIT_TASKS": "100 per hour",
    "RATE_LIMIT_REMOTE": "50 per hour",
    "WEBSOCKET_MAX_CONNECTIONS_PER_IP": 10,
    # Host allow-list (DNS-rebinding defence) and CORS
    "ALLOWED_HOSTS": [],
    "CORS_ORIGINS": [],
    # Network node
    "NODE_URL": DEFAULT_NODE_URL,
    # Monitoring
    "MONITOR_AUTOSTART": True,
    "MONITOR_SAMPLE_INTERVAL": 2.0,
    "MONITOR_STORE_INTERVAL": 60.0,
    "MONITOR_RETENTION_HOURS": 168.0,
    "ALERT_THRESHOLDS": {
        "cpu": {"warning": 85.0, "critical": 95.0},
        "memory": {"warning": 85.0, "critical": 95.0},
        "disk": {"warning": 75.0, "critical": 90.0},
        "gpu_temperature": {"warning": 80.0, "critical": 90.0},
    },
    # Tasks
    "TASKS_AUTOSTART": True,
    "MAX_CONCURRENT_TASKS": 3,
    "GPU_ENABLED": True,
    # AI models
    "AI_MODELS_AUTOLOAD": True,
    "INFERENCE_CACHE_SIZE": 1024,
    # Remote management
    "LOG_FILE": "logs/agent.log",  # relative to the instance folder; empty disables the file
    "LOG_MAX_BYTES": 10 * 1024 * 1024,
    "LOG_BACKUP_COUNT": 5,
    "CPU_LIMIT_PERCENT": 100,
    "MEMORY_LIMIT_MB": 0,  # 0: no limit
    "MEMORY_GUARD_INTERVAL": 2.0,
    "OPTIMIZE_TRIAL_SECONDS": 1.0,
    "SHUTDOWN_TIMEOUT": 30.0,
    "ALLOW_SELF_UPDATE": False,
    "AGENT_INSTALL_DIR": None,  # the git checkout update_agent pulls; default: the one holding the package
    "UPDATE_TIMEOUT_SECONDS": 600.0,
}

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class ConfigError(ValueError):
    """A configuration value is missing or has the wrong type or range."""


def resolve_instance_path(config: dict[str, Any] | None) -> str | None:
    """Pick the instance folder: the passed mapping, then the environment, else Flask's default."""
    if config and config.get("INSTANCE_PATH"):
        return str(Path(config["INSTANCE_PATH"]).resolve())
    if os.environ.get(INSTANCE_PATH_ENV):
        return str(Path(os.environ[INSTANCE_PATH_ENV]).resolve())
    return None


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Layer defaults -> instance/config.json -> ULTIMATE_AGENT_* env -> overrides, then validate."""
    # A copy: nested env keys (ALERT_THRESHOLDS__cpu) and runtime updates change dicts in place.
    app.config.from_mapping(copy.deepcopy(DEFAULTS))
    config_file = Path(app.instance_path) / "config.json"
    if config_file.exists():
        try:
            app.config.from_file(str(config_file), load=json.load)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{config_file} is not valid JSON: {exc}") from exc
    app.config.from_prefixed_env(ENV_PREFIX)
    if overrides:
        app.config.from_mapping(overrides)
    app.config["INSTANCE_PATH"] = app.instance_path
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        db_file = Path(app.instance_path) / "agent.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    validate_config(app.config)


def _require(config: dict[str, Any], key: str, kind: type | tuple[type, ...], check=None, why: str = "") -> None:
    value = config.get(key)
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{key} must be a number, got a boolean")
    if not isinstance(value, kind) or (check is not None and not check(value)):
        raise ConfigError(f"{key} is invalid: {value!r} {why}".strip())


def validate_config(config: dict[str, Any]) -> None:
    """Refuse to start with a configuration that would misbehave later."""
    # Environment values arrive as JSON where they parse; a numeric key must stay a string.
    if config.get("ADMIN_API_KEY") is not None:
        config["ADMIN_API_KEY"] = str(config["ADMIN_API_KEY"])
        if len(config["ADMIN_API_KEY"]) < 16:
            raise ConfigError("ADMIN_API_KEY must be at least 16 characters")
    for key in ("RATE_LIMIT_GENERAL", "RATE_LIMIT_TASKS", "RATE_LIMIT_REMOTE"):
        _require(config, key, str)
        try:
            parse_many(config[key])
        except ValueError as exc:
            raise ConfigError(f"{key} is not a rate limit like '100 per hour': {config[key]!r}") from exc
    _require(config, "PORT", int, lambda v: 0 < v < 65536, "(1-65535)")
    _require(config, "MAX_CONTENT_LENGTH", int, lambda v: v > 0)
    _require(config, "JWT_EXPIRES_SECONDS", int, lambda v: 60 <= v <= 86400, "(60-86400)")
    _require(config, "WEBSOCKET_MAX_CONNECTIONS_PER_IP", int, lambda v: v >= 1)
    _require(config, "MAX_CONCURRENT_TASKS", int, lambda v: 1 <= v <= 64, "(1-64)")
    _require(config, "INFERENCE_CACHE_SIZE", int, lambda v: 0 <= v <= 1_000_000, "(0-1000000)")
    for key in ("MONITOR_SAMPLE_INTERVAL", "MONITOR_STORE_INTERVAL", "MONITOR_RETENTION_HOURS"):
        _require(config, key, (int, float), lambda v: v > 0, "(> 0)")
    for key in ("ALLOWED_HOSTS", "CORS_ORIGINS"):
        if isinstance(config.get(key), str):
            config[key] = [part.strip() for part in config[key].split(",") if part.strip()]
        _require(config, key, list)
    _require(config, "NODE_URL", str)
    _validate_remote_management(config)
    _require(config, "ALERT_THRESHOLDS", dict)
    for name, levels in config["ALERT_THRESHOLDS"].items():
        if not isinstance(levels, dict) or not all(
            isinstance(levels.get(level), (int, float)) for level in ("warning", "critical")
        ):
            raise ConfigError(f"ALERT_THRESHOLDS.{name} needs numeric 'warning' and 'critical'")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _validate_remote_management(config: dict[str, Any]) -> None:
    if isinstance(config.get("LOG_LEVEL"), str):
        config["LOG_LEVEL"] = config["LOG_LEVEL"].upper()
    _require(config, "LOG_LEVEL", str, lambda v: v in LOG_LEVELS, f"(one of {', '.join(LOG_LEVELS)})")
    if config.get("LOG_FILE") is not None:
        _require(config, "LOG_FILE", str)
    _require(config, "LOG_MAX_BYTES", int, lambda v: v >= 1024, "(>= 1024)")
    _require(config, "LOG_BACKUP_COUNT", int, lambda v: 1 <= v <= 100, "(1-100)")
    _require(config, "CPU_LIMIT_PERCENT", int, lambda v: 1 <= v <= 100, "(1-100)")
    _require(config, "MEMORY_LIMIT_MB", int, lambda v: v >= 0, "(>= 0, 0 for none)")
    for key in ("MEMORY_GUARD_INTERVAL", "OPTIMIZE_TRIAL_SECONDS", "SHUTDOWN_TIMEOUT", "UPDATE_TIMEOUT_SECONDS"):
        _require(config, key, (int, float), lambda v: v > 0, "(> 0)")
    for key in ("ALLOW_SELF_UPDATE", "GPU_ENABLED"):
        _require(config, key, bool)
    if config.get("AGENT_INSTALL_DIR") is not None:
        _require(config, "AGENT_INSTALL_DIR", str)
