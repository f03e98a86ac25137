"""Shared fixtures: a real app on a fresh SQLite file per test, clients and credentials."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agent_support import admin_key_of
from flask import Flask
from flask.testing import FlaskClient

from ultimate_agent import create_app
from ultimate_agent.extensions import db, socketio

pytest_plugins = ["chain_fixtures", "live_agent"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's ULTIMATE_AGENT_* variables out of the tests; no background model training."""
    for name in list(os.environ):
        if name.startswith("ULTIMATE_AGENT_"):
            monkeypatch.delenv(name)
    # Apps built directly in tests would each train the built-in models in the background; the tests
    # that need models use the ai_app fixture, which passes its own setting.
    monkeypatch.setenv("ULTIMATE_AGENT_AI_MODELS_AUTOLOAD", "false")
    # Likewise no embedded chain node per app: the chain tests use one per session (tests/chain_fixtures.py).
    monkeypatch.setenv("ULTIMATE_AGENT_CHAIN_ENABLED", "false")


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on their own instance folders; everything they started is stopped afterwards."""
    apps: list[Flask] = []

    def build(**overrides) -> Flask:
        # Built-in models train in the background at first start; tests that need them use ai_app.
        config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / f"instance{len(apps)}"),
                  "AI_MODELS_AUTOLOAD": False, **overrides}
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["system_monitor"].stop()
        if "task_manager" in app.extensions:
            app.extensions["task_manager"].shutdown(timeout=10)
        app.extensions["model_registry"].stop()
        if "chain" in app.extensions:
            app.extensions["chain"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def builtin_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built-in model weights, trained once per test session by a real agent's first start."""
    instance = tmp_path_factory.mktemp("builtin-models")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "TASKS_AUTOSTART": False, "CHAIN_ENABLED": False,
                      "AI_MODELS_AUTOLOAD": True})
    registry = app.extensions["model_registry"]
    assert registry.wait_ready(300), "built-in models did not finish training"
    failed = {m["name"]: m["error"] for m in registry.describe_all() if m["status"] != "loaded"}
    assert not failed, failed
    with app.app_context():
        db.engine.dispose()
    return instance / "models"


@pytest.fixture
def ai_app(app_factory: Callable[..., Flask], builtin_models: Path, tmp_path: Path) -> Flask:
    """An agent whose instance already holds the built-in weights, loaded and ready."""
    instance = tmp_path / "ai-instance"
    shutil.copytree(builtin_models, instance / "models")
    app = app_factory(INSTANCE_PATH=str(instance), AI_MODELS_AUTOLOAD=True)
    assert app.extensions["model_registry"].wait_ready(60)
    return app


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    """A real agent app with its own SQLite database."""
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def admin_key(app: Flask) -> str:
    """The admin key the agent generated at first start."""
    return admin_key_of(app)


@pytest.fixture
def auth_headers(admin_key: str) -> dict[str, str]:
    """Headers of an admin caller."""
    return {"Authorization": f"Bearer {admin_key}"}


@pytest.fixture
def make_key(app: Flask) -> Callable[[list[str]], str]:
    """Create an API key with the given permissions and return its secret."""
    from ultimate_agent.security.keys import create_key

    def make(permissions: list[str], name: str = "test") -> str:
        with app.app_context():
            return create_key(name, permissions, actor="test")[1]

    return make


@pytest.fixture
def read_headers(make_key) -> dict[str, str]:
    """Headers of a read-only caller."""
    return {"Authorization": f"Bearer {make_key(['read'], 'reader')}"}


@pytest.fixture
def write_headers(make_key) -> dict[str, str]:
    """Headers of a read-write caller."""
    return {"Authorization": f"Bearer {make_key(['write'], 'writer')}"}


@pytest.fixture
def socket_client(app: Flask, admin_key: str):
    """A connected Socket.IO test client authenticated as admin."""
    sock = socketio.test_client(app, auth={"token": admin_key})
    yield sock
    if sock.is_connected():
        sock.disconnect()
