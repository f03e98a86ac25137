"""The application factory: config -> extensions -> services -> blueprints -> socket handlers -> errors."""

from __future__ import annotations

import atexit
import logging
import time
import weakref
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_migrate import upgrade
from sqlalchemy import event

from . import __version__
from .commit_cache import CommitCache, install_commit_tracking
from .config import load_config, resolve_instance_path
from .errors import register_error_handlers
from .extensions import db, init_extensions, limiter
from .monitoring.metrics import AgentMetrics
from .monitoring.sampler import SystemMonitor
from .realtime import handlers as _socket_handlers  # noqa: F401  (registers the Socket.IO handlers)
from .realtime.connections import ConnectionRegistry
from .schemas.common import ErrorEnvelopeSchema
from .security.auth import install_auth
from .security.hosts import install_host_check
from .security.instance_secrets import load_instance_secrets
from .security.keys import ensure_admin_key

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
log = logging.getLogger("ultimate_agent")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a configured agent app; `config` overrides every other configuration layer."""
    instance_path = resolve_instance_path(config)
    app = Flask("ultimate_agent", instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, config)
    app.extensions["config_overrides"] = dict(config or {})  # reload_config layers them on top again
    _configure_logging(app)
    _load_secrets(app)
    _configure_api_docs(app)

    init_extensions(app)
    with app.app_context():
        _prepare_database(app)
        ensure_admin_key()

    install_commit_tracking()
    app.extensions["status_cache"] = CommitCache()
    app.extensions["key_cache"] = CommitCache()
    app.extensions["agent_started_at"] = time.time()
    app.extensions["agent_metrics"] = AgentMetrics()
    app.extensions["system_monitor"] = SystemMonitor(app)
    app.extensions["socket_connections"] = ConnectionRegistry(app.config["WEBSOCKET_MAX_CONNECTIONS_PER_IP"])

    # Request hooks run in this order: Host check, rate limit, auth gate, metrics timer.
    install_host_check(app)
    _install_rate_limits(app)
    install_auth(app)
    app.extensions["agent_metrics"].install(app)

    _register_blueprints(app)
    register_error_handlers(app)

    _create_model_registry(app)
    if app.config["CHAIN_ENABLED"]:
        _start_chain(app)
    if app.config["TASKS_AUTOSTART"]:
        _start_task_manager(app)
    if app.config["AI_MODELS_AUTOLOAD"]:
        _start_model_loading(app)
    _start_remote_management(app)
    # After the task manager: its runners import torch, which the monitor's GPU probe looks at.
    if app.config["MONITOR_AUTOSTART"] and not app.testing:
        app.extensions["system_monitor"].start()
    if app.config["NETWORK_CLIENT_AUTOSTART"] and app.config["NODE_URL"] and not app.testing:
        _start_network_client(app)
    log.info("Agent %s (version %s) ready; instance folder %s", app.config["AGENT_ID"], __version__,
             app.instance_path)
    return app


def _create_model_registry(app: Flask) -> None:
    from .ai.inference import InferenceEngine
    from .ai.registry import ModelRegistry

    registry = ModelRegistry(app)
    app.extensions["model_registry"] = registry
    app.extensions["inference_engine"] = InferenceEngine(registry, app.config["INFERENCE_CACHE_SIZE"])


def _start_model_loading(app: Flask) -> None:
    from .ai.networks import preferred_device

    registry = app.extensions["model_registry"]
    registry.start(device=preferred_device(app.config["GPU_ENABLED"]))
    # A built-in still training when the process exits must stop inside torch's Python layer, not be
    # killed inside its C++ one (that aborts the interpreter). Weakly held: an app may go away first.
    atexit.register(_stop_registry, weakref.ref(registry))


def _stop_registry(registry_ref: weakref.ref) -> None:
    registry = registry_ref()
    if registry is not None:
        registry.stop()


def _start_chain(app: Flask) -> None:
    # Deferred import: web3 is heavy, and maintenance commands run without the chain.
    from .chain.service import ChainService

    service = ChainService(app)
    app.extensions["chain"] = service
    service.start()
    if not app.testing:
        # The node's state is saved and the node stopped on a graceful exit; after kill -9 it lives on
        # and the next start re-attaches to it.
        atexit.register(_stop_chain, weakref.ref(service))


def _stop_chain(service_ref: weakref.ref) -> None:
    service = service_ref()
    if service is not None:
        service.stop()


def _start_task_manager(app: Flask) -> None:
    # Deferred import: the runners load optuna, gymnasium and the rest, which maintenance commands skip.
    from .tasks.catalog import builtin_registry
    from .tasks.manager import TaskManager

    task_types = builtin_registry()
    chain = app.extensions.get("chain")
    if chain is not None:
        from .tasks.catalog import register_chain_runners

        register_chain_runners(task_types)
    manager = TaskManager(app, task_types)
    app.extensions["task_manager"] = manager
    registry = app.extensions["model_registry"]
    manager.hooks.completion.append(
        lambda record: registry.register_task_model(record.task_id, record.task_type, record.result,
                                                    (record.config or {}).get("model_name")))
    if chain is not None:
        manager.hooks.reward.append(lambda task_id, task_type, _result: chain.request_reward(task_id, task_type))
    manager.start()
    if not app.testing:
        # On a graceful stop running tasks checkpoint and are resumed at the next start.
        atexit.register(manager.shutdown)


def _start_network_client(app: Flask) -> None:
    from .network import start_network_client

    client = start_network_client(app)
    if client is not None:
        # Registered after the task manager's, so it runs first: the node hears "shutdown" before
        # running tasks are interrupted.
        atexit.register(client.stop)


def _start_remote_management(app: Flask) -> None:
    from .remote.lifecycle import Lifecycle
    from .remote.limits import apply_cpu_limit, apply_memory_limit
    from .remote.service import RemoteService

    app.extensions["remote_service"] = RemoteService(app)
    app.extensions["remote_lifecycle"] = Lifecycle(app)
    # Limits set remotely are persisted to config.json; a restarted agent keeps them.
    if app.config["CPU_LIMIT_PERCENT"] < 100:
        apply_cpu_limit(app, app.config["CPU_LIMIT_PERCENT"])
    if app.config["MEMORY_LIMIT_MB"]:
        apply_memory_limit(app, app.config["MEMORY_LIMIT_MB"])


def _configure_logging(app: Flask) -> None:
    from .remote.logs import LOG_FORMAT, install_log_file

    logger = logging.getLogger("ultimate_agent")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not logging.getLogger().handlers and not any(
            not getattr(handler, "agent_log_file", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    install_log_file(app, logger)


def _load_secrets(app: Flask) -> None:
    secrets = load_instance_secrets(app.instance_path)
    for key, value in secrets.items():
        # An explicit configuration (env or mapping) wins over the generated file.
        if not app.config.get(key):
            app.config[key] = value


def _configure_api_docs(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Ultimate Agent API")
    app.config.setdefault("API_VERSION", "v4")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    from .extensions import api

    api.ERROR_SCHEMA = ErrorEnvelopeSchema


def _prepare_database(app: Flask) -> None:
    if db.engine.dialect.name == "sqlite":
        event.listen(db.engine, "connect", _sqlite_pragmas)
    upgrade(directory=MIGRATIONS_DIR)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _install_rate_limits(app: Flask) -> None:
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    # The seed's limits cover the API; the dashboard's static files are not counted.
    app.config["RATELIMIT_APPLICATION_EXEMPT_WHEN"] = lambda: not (
        request.path.startswith("/api") or request.path == "/metrics")

    # Registered before the limiter's own hook so it runs after it (Flask runs these in reverse).
    @app.after_request
    def finish_rate_limit_headers(response):
        current = limiter.current_limit
        if current is not None:
            response.headers["X-RateLimit-Window"] = str(current.limit.get_expiry())
        if response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    limiter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .api import ai, auth, blockchain, database, docs, metrics, remote, status, tasks
    from .dashboard import views as dashboard
    from .extensions import api

    for blueprint in (status.blp, tasks.blp, ai.blp, blockchain.blp, auth.blp, database.blp, metrics.blp,
                      remote.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.blp)
    app.register_blueprint(dashboard.blp)
