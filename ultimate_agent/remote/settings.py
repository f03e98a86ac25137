"""Configuration commands: live updates of runtime keys, reload from file, deployment of a whole document."""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Config, Flask
from marshmallow import Schema, fields, validate

from ..config import DEFAULTS, ConfigError, load_config, validate_config
from ..models.base import utcnow
from .audit import redact
from .registry import Command, CommandFailed

log = logging.getLogger(__name__)
CONFIG_FILE = "config.json"
CONFIG_BACKUPS = "config_backups"


def _set_log_level(_app: Flask, value: Any) -> None:
    logging.getLogger("ultimate_agent").setLevel(value)


def _set_concurrency(app: Flask, value: Any) -> None:
    from .limits import apply_cpu_limit

    apply_cpu_limit(app, app.config["CPU_LIMIT_PERCENT"])


def _set_cache_size(app: Flask, value: Any) -> None:
    engine = app.extensions.get("inference_engine")
    if engine is not None:
        # A smaller size takes effect at the next insert, which evicts down to it; 0 empties it now.
        engine.cache.size = value
        if value == 0:
            engine.cache.clear()


def _monitor_setter(attribute: str, convert: Callable[[Any], Any]) -> Callable[[Flask, Any], None]:
    def apply(app: Flask, value: Any) -> None:
        monitor = app.extensions.get("system_monitor")
        if monitor is not None:
            setattr(monitor, attribute, convert(value))

    return apply


def _set_socket_cap(app: Flask, value: Any) -> None:
    app.extensions["socket_connections"].per_address_limit = value


def _set_cpu_limit(app: Flask, value: Any) -> None:
    from .limits import apply_cpu_limit

    apply_cpu_limit(app, value)


def _set_memory_limit(app: Flask, value: Any) -> None:
    from .limits import apply_memory_limit

    apply_memory_limit(app, value)


def _read_live(_app: Flask, _value: Any) -> None:
    """Keys every reader takes from current_app.config on each use: setting the config is enough."""


# Keys that can change while the agent runs, with what applies each one. Everything else (database,
# secrets, host, ALLOW_SELF_UPDATE...) needs a restart or must not be changeable remotely.
RUNTIME_KEYS: dict[str, Callable[[Flask, Any], None]] = {
    "AGENT_NAME": _read_live,
    "LOG_LEVEL": _set_log_level,
    "MAX_CONCURRENT_TASKS": _set_concurrency,
    "GPU_ENABLED": _read_live,
    "INFERENCE_CACHE_SIZE": _set_cache_size,
    "RATE_LIMIT_GENERAL": _read_live,
    "RATE_LIMIT_TASKS": _read_live,
    "RATE_LIMIT_REMOTE": _read_live,
    "ALERT_THRESHOLDS": _read_live,
    "MONITOR_SAMPLE_INTERVAL": _monitor_setter("sample_interval", float),
    "MONITOR_STORE_INTERVAL": _monitor_setter("store_interval", float),
    "MONITOR_RETENTION_HOURS": _monitor_setter("retention", lambda v: timedelta(hours=float(v))),
    "WEBSOCKET_MAX_CONNECTIONS_PER_IP": _set_socket_cap,
    "CPU_LIMIT_PERCENT": _set_cpu_limit,
    "MEMORY_LIMIT_MB": _set_memory_limit,
    "MEMORY_GUARD_INTERVAL": _read_live,
    "OPTIMIZE_TRIAL_SECONDS": _read_live,
}


def config_path(app: Flask) -> Path:
    """instance/config.json."""
    return Path(app.instance_path) / CONFIG_FILE


def public_config(app: Flask) -> dict[str, Any]:
    """The known configuration keys with secrets masked."""
    return redact({key: copy.deepcopy(app.config.get(key)) for key in DEFAULTS})


def read_config_file(app: Flask) -> dict[str, Any]:
    """The instance's config.json as a dict ({} when absent); CommandFailed when unreadable."""
    path = config_path(app)
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CommandFailed("config.json cannot be read", {"path": str(path), "reason": str(exc)}) from exc
    if not isinstance(document, dict):
        raise CommandFailed("config.json does not hold an object", {"path": str(path)})
    return document


def write_json_atomic(path: Path, document: dict[str, Any]) -> None:
    """Replace `path` with `document` so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # it may hold secrets (an admin key, a database password)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def persist(app: Flask, values: dict[str, Any]) -> None:
    """Merge `values` into instance/config.json (atomic write)."""
    document = read_config_file(app)
    document.update(values)
    write_json_atomic(config_path(app), document)


def _check_known(keys: list[str], allowed: set[str] | dict[str, Any], what: str) -> None:
    unknown = sorted(key for key in keys if key not in allowed)
    if unknown:
        raise CommandFailed(f"Unknown or {what} configuration key", {"field": unknown[0], "keys": unknown,
                                                                      "allowed": sorted(allowed)})


def _validated(app: Flask, values: dict[str, Any]) -> dict[str, Any]:
    """`values` as the validator normalises them; CommandFailed naming the bad key."""
    candidate = dict(app.config)
    candidate.update(copy.deepcopy(values))
    try:
        validate_config(candidate)
    except ConfigError as exc:
        field = next((key for key in values if key in str(exc)), None)
        raise CommandFailed("Invalid configuration value", {"field": field, "message": str(exc)}) from exc
    return {key: candidate[key] for key in values}


def apply_live(app: Flask, values: dict[str, Any]) -> list[str]:
    """Set runtime keys on the running agent and apply each; returns the keys that changed."""
    changed = []
    for key, value in values.items():
        if app.config.get(key) == value:
            continue
        app.config[key] = value
        RUNTIME_KEYS[key](app, value)
        changed.append(key)
    return changed


def _env_overridden(keys: list[str]) -> list[str]:
    from ..config import ENV_PREFIX

    return [key for key in keys if f"{ENV_PREFIX}_{key}" in os.environ]


class UpdateParams(Schema):
    """update_config parameters."""

    values = fields.Dict(keys=fields.String(), required=True, validate=validate.Length(min=1),
                         metadata={"description": "Runtime-updatable keys and their new values"})


class DeployParams(Schema):
    """deploy_configuration parameters."""

    config = fields.Dict(keys=fields.String(), required=True,
                         metadata={"description": "The whole new config.json document"})


def update_config(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Validate runtime keys, apply them live and persist them to instance/config.json; all or nothing."""
    values = params["values"]
    _check_known(list(values), RUNTIME_KEYS, "not runtime-updatable")
    normalised = _validated(app, values)
    previous = {key: copy.deepcopy(app.config.get(key)) for key in normalised}
    persist(app, normalised)
    changed = apply_live(app, normalised)
    return {"updated": redact(normalised), "previous": redact(previous), "changed": changed,
            "persisted_to": str(config_path(app)), "overridden_by_environment": _env_overridden(list(normalised))}


def layered_config(app: Flask, document: dict[str, Any] | None = None) -> Config:
    """The configuration a fresh start would load now (optionally with `document` as config.json)."""
    overrides = app.extensions.get("config_overrides") or {}
    with tempfile.TemporaryDirectory() as scratch:
        instance = app.instance_path
        if document is not None:
            # The layering reads config.json from the instance folder; point it at the candidate instead.
            instance = scratch
            (Path(scratch) / CONFIG_FILE).write_text(json.dumps(document), encoding="utf-8")
        stand_in = SimpleNamespace(instance_path=instance, config=Config(instance))
        try:
            load_config(stand_in, {**overrides, "INSTANCE_PATH": app.instance_path})
        except ConfigError as exc:
            raise CommandFailed("Invalid configuration", {"message": str(exc)}) from exc
        fresh = stand_in.config
        default_db = f"sqlite:///{Path(instance) / 'agent.db'}"
        if fresh["SQLALCHEMY_DATABASE_URI"] == default_db:
            # The default database lives in the real instance folder, not the scratch one.
            fresh["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'agent.db'}"
    fresh["INSTANCE_PATH"] = app.instance_path
    return fresh


def _apply_fresh(app: Flask, fresh: Config, keys: set[str]) -> dict[str, Any]:
    """Apply what differs between `fresh` and the running config: runtime keys live, the rest at restart."""
    differing = sorted(key for key in keys if fresh.get(key) != app.config.get(key))
    live = {key: fresh[key] for key in differing if key in RUNTIME_KEYS}
    restart = [key for key in differing if key not in RUNTIME_KEYS]
    changed = apply_live(app, live)
    return {"applied": changed, "requires_restart": restart}


def reload_config(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """Re-read instance/config.json (under the environment and start-up overrides) and apply the changes."""
    document = read_config_file(app)
    fresh = layered_config(app)
    keys = set(DEFAULTS) | set(document)
    return {"file": str(config_path(app)), **_apply_fresh(app, fresh, keys)}


def deploy_configuration(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole config document, back up the old file, replace it atomically and apply it."""
    document = params["config"]
    _check_known(list(document), DEFAULTS, "unsupported")
    fresh = layered_config(app, document)
    path = config_path(app)
    backup = None
    if path.exists():
        folder = Path(app.instance_path) / CONFIG_BACKUPS
        folder.mkdir(parents=True, exist_ok=True)
        backup = folder / f"config-{utcnow():%Y%m%dT%H%M%S%fZ}.json"
        backup.write_bytes(path.read_bytes())
        os.chmod(backup, 0o600)
    write_json_atomic(path, document)
    previous_keys = set(DEFAULTS)
    result = _apply_fresh(app, fresh, previous_keys)
    return {"file": str(path), "backup": str(backup) if backup else None, "keys": sorted(document), **result}


COMMANDS = (
    Command("update_config", update_config, UpdateParams,
            description="Change runtime-updatable keys live and persist them (all or nothing)"),
    Command("reload_config", reload_config, description="Re-read instance/config.json and apply what changed"),
    Command("deploy_configuration", deploy_configuration, DeployParams,
            description="Validate and deploy a whole config.json, keeping a backup of the old one"),
)
