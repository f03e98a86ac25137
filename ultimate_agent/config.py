"""Configuration defaults, layered loading and validation."""

from __future__ import annotations

import copy
import ipaddress
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
    # Network node (empty NODE_URL: standalone). Intervals and timeouts are in seconds.
    "NODE_URL": DEFAULT_NODE_URL,
    "NETWORK_CLIENT_AUTOSTART": True,  # only when serving: never while app.testing
    "NODE_HEARTBEAT_INTERVAL": 30.0,  # until a reply's next_heartbeat says otherwise
    "NODE_HEARTBEAT_MIN_INTERVAL": 5.0,  # floor under the node's next_heartbeat
    "NODE_REQUEST_TIMEOUT": 10.0,
    "NODE_BACKOFF_INITIAL": 2.0,  # first retry delay after a failure; doubles per failure, with jitter
    "NODE_BACKOFF_MAX": 300.0,
    "NODE_ASSIGNMENT_MAX_MEMORY_PERCENT": 90.0,  # refuse node assignments above this memory use
    "TRUSTED_NODE_ADDRESSES": [],  # addresses/networks that may read the API without a token
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
    # Blockchain
    "CHAIN_ENABLED": True,
    # The embedded anvil node (npm @foundry-rs/anvil) with state in instance/chain/.
    "CHAIN_EMBEDDED": True,
    "ANVIL_PATH": None,
    "CHAIN_BLOCK_TIME": None,  # None: a block per transaction; seconds: interval mining
    # Other EVM networks: [{"name", "chain_id", "rpc_url", "contracts": {"task_rewards": 0x.., "PAIN": ..},
    #                       "from_block": the contracts' deployment block, where log scans start}]
    "CHAIN_NETWORKS": [],
    "CHAIN_PRIMARY_NETWORK": None,  # the wallet's network; default the embedded one, else the first listed
    "CHAIN_RPC_TIMEOUT": 10.0,
    "CHAIN_RECEIPT_TIMEOUT": 120.0,
    "WALLET_PASSWORD": None,  # default: a generated password in instance/chain/wallet_password (0600)
    "WALLET_SCRYPT_N": 2**18,
    # ETH paid per successful task, by task type ("default" for the rest); capped by the contract.
    "REWARD_SCHEDULE": {
        "default": 0.001,
        "neural_network_training": 0.005,
        "cnn_training": 0.008,
        "transformer_training": 0.01,
        "reinforcement_learning": 0.006,
        "federated_learning": 0.008,
        "hyperparameter_optimization": 0.01,
    },
    "REWARD_RETRY_BASE_SECONDS": 2.0,
    "REWARD_RETRY_MAX_SECONDS": 300.0,
    # Embedded chain only: the contract's per-claim cap, the pool, and the wallet's starting grant.
    "REWARD_MAX_PER_CLAIM": 0.1,
    "REWARD_POOL_ETH": 1000.0,
    "CHAIN_AGENT_GAS_ETH": 10.0,
    "CHAIN_TOKEN_GRANT": {"PAIN": 1000, "AI": 250, "USDC": 500, "BTC": 0.05},
    # A fixed table, not a market feed: total_value_usd is only as current as this configuration.
    "PRICE_TABLE_USD": {"ETH": 3000.0, "PAIN": 0.05, "AI": 0.4, "USDC": 1.0, "BTC": 90000.0},
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


def _validate_network(config: dict[str, Any]) -> None:
    url = config["NODE_URL"].strip().rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"NODE_URL must be an http(s) URL or empty, got {url!r}")
    config["NODE_URL"] = url
    _require(config, "NETWORK_CLIENT_AUTOSTART", bool)
    for key in ("NODE_HEARTBEAT_INTERVAL", "NODE_HEARTBEAT_MIN_INTERVAL", "NODE_REQUEST_TIMEOUT",
                "NODE_BACKOFF_INITIAL", "NODE_BACKOFF_MAX"):
        _require(config, key, (int, float), lambda v: 0 < v <= 86400, "(0-86400 seconds)")
    if config["NODE_BACKOFF_MAX"] < config["NODE_BACKOFF_INITIAL"]:
        raise ConfigError("NODE_BACKOFF_MAX must not be below NODE_BACKOFF_INITIAL")
    _require(config, "NODE_ASSIGNMENT_MAX_MEMORY_PERCENT", (int, float), lambda v: 0 < v <= 100, "(0-100)")
    if isinstance(config.get("TRUSTED_NODE_ADDRESSES"), str):
        config["TRUSTED_NODE_ADDRESSES"] = [
            part.strip() for part in config["TRUSTED_NODE_ADDRESSES"].split(",") if part.strip()]
    _require(config, "TRUSTED_NODE_ADDRESSES", list)
    for entry in config["TRUSTED_NODE_ADDRESSES"]:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError as exc:
            raise ConfigError(f"TRUSTED_NODE_ADDRESSES holds {entry!r}, not an IP address or network") from exc


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
    _validate_network(config)
    _validate_remote_management(config)
    _require(config, "ALERT_THRESHOLDS", dict)
    for name, levels in config["ALERT_THRESHOLDS"].items():
        if not isinstance(levels, dict) or not all(
            isinstance(levels.get(level), (int, float)) for level in ("warning", "critical")
        ):
            raise ConfigError(f"ALERT_THRESHOLDS.{name} needs numeric 'warning' and 'critical'")
    _validate_chain(config)


def _network_entry_valid(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("name"), str) and bool(entry["name"])
            and isinstance(entry.get("rpc_url"), str) and entry["rpc_url"].startswith(("http://", "https://"))
            and isinstance(entry.get("chain_id"), int) and not isinstance(entry["chain_id"], bool))


def _validate_chain(config: dict[str, Any]) -> None:
    if config.get("WALLET_PASSWORD") is not None:
        config["WALLET_PASSWORD"] = str(config["WALLET_PASSWORD"])
    for key in ("CHAIN_ENABLED", "CHAIN_EMBEDDED"):
        _require(config, key, bool)
    for key in ("CHAIN_RPC_TIMEOUT", "CHAIN_RECEIPT_TIMEOUT", "REWARD_RETRY_BASE_SECONDS",
                "REWARD_RETRY_MAX_SECONDS", "REWARD_MAX_PER_CLAIM"):
        _require(config, key, (int, float), lambda v: v > 0, "(> 0)")
    for key in ("REWARD_POOL_ETH", "CHAIN_AGENT_GAS_ETH"):
        _require(config, key, (int, float), lambda v: v >= 0, "(>= 0)")
    _require(config, "WALLET_SCRYPT_N", int, lambda v: v >= 2**10 and v & (v - 1) == 0, "(a power of two)")
    if config.get("CHAIN_BLOCK_TIME") is not None:
        _require(config, "CHAIN_BLOCK_TIME", (int, float), lambda v: v > 0, "(> 0)")
    for key in ("REWARD_SCHEDULE", "CHAIN_TOKEN_GRANT", "PRICE_TABLE_USD"):
        _require(config, key, dict)
        for name, value in config[key].items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{key}.{name} must be a non-negative number")
    if max(config["REWARD_SCHEDULE"].values(), default=0) > config["REWARD_MAX_PER_CLAIM"]:
        raise ConfigError("A REWARD_SCHEDULE amount is above REWARD_MAX_PER_CLAIM; the contract would refuse it")
    _require(config, "CHAIN_NETWORKS", list)
    names = set()
    for entry in config["CHAIN_NETWORKS"]:
        if not _network_entry_valid(entry):
            raise ConfigError("Each CHAIN_NETWORKS entry needs name, an integer chain_id and an http(s) rpc_url")
        if entry["name"] in names or entry["name"] == "embedded":
            raise ConfigError(f"CHAIN_NETWORKS name {entry['name']!r} is used twice or is the reserved 'embedded'")
        names.add(entry["name"])
        if not isinstance(entry.get("contracts", {}), dict):
            raise ConfigError(f"CHAIN_NETWORKS {entry['name']}.contracts must be a mapping")
        from_block = entry.get("from_block", 0)
        if isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0:
            raise ConfigError(f"CHAIN_NETWORKS {entry['name']}.from_block must be a block number")
    primary = config.get("CHAIN_PRIMARY_NETWORK")
    if primary is not None and primary not in names | ({"embedded"} if config["CHAIN_EMBEDDED"] else set()):
        raise ConfigError(f"CHAIN_PRIMARY_NETWORK {primary!r} is not a configured network")


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
