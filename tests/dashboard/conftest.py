"""Browser-test fixtures: a real agent serving HTTP and Socket.IO on a loopback port, and headless Chromium."""

from __future__ import annotations

import shutil
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chain_fixtures import GRANT, MAX_REWARD, DevChain
from flask import Flask
from werkzeug.serving import make_server

from ultimate_agent import create_app
from ultimate_agent.chain.deploy import provision_agent
from ultimate_agent.extensions import db
from ultimate_agent.security.keys import create_key

CHROMIUM = Path("/usr/bin/chromium")
# The flags issue 8 prescribes: no sandbox (root in CI), and nothing that reaches for the internet.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class LiveAgent:
    """An agent reachable over the network, with an admin and a read-only key."""

    app: Flask
    url: str
    admin_key: str
    read_key: str


@dataclass
class PageErrors:
    """What went wrong inside a page: uncaught exceptions and console errors (CSP refusals among them)."""

    messages: list[str] = field(default_factory=list)

    def unexpected(self) -> list[str]:
        """Errors other than the browser's own line for an HTTP error reply (the tests provoke some)."""
        return [m for m in self.messages if "Failed to load resource" not in m]


@pytest.fixture(scope="module")
def live_agent(tmp_path_factory: pytest.TempPathFactory, dev_chain: DevChain,
               builtin_models: Path) -> Iterator[LiveAgent]:
    """A real agent (chain, task manager, built-in models, monitor) served by werkzeug in a background thread."""
    instance = tmp_path_factory.mktemp("dashboard-agent")
    shutil.copytree(builtin_models, instance / "models")
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "AI_MODELS_AUTOLOAD": True,
        "CHAIN_ENABLED": True, "CHAIN_EMBEDDED": False, "CHAIN_NETWORKS": [dev_chain.network],
        "WALLET_SCRYPT_N": 2**10, "REWARD_RETRY_BASE_SECONDS": 0.05, "REWARD_RETRY_MAX_SECONDS": 0.5,
        "REWARD_MAX_PER_CLAIM": MAX_REWARD, "MONITOR_SAMPLE_INTERVAL": 1.0, "MONITOR_STORE_INTERVAL": 1.0,
        "NETWORK_CLIENT_AUTOSTART": False,
    })
    provision_agent(dev_chain.w3, dev_chain.deployer, dev_chain.contracts, app.extensions["chain"].wallet.address,
                    10, GRANT)
    assert app.extensions["model_registry"].wait_ready(60)
    # Testing apps do not sample on their own; the dashboard's live charts need the sampler's events.
    app.extensions["system_monitor"].start()
    with app.app_context():
        read_key = create_key("dashboard-reader", ["read"], actor="test")[1]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    admin_key = (instance / "admin_api_key").read_text().strip()
    try:
        yield LiveAgent(app, f"http://127.0.0.1:{server.server_port}", admin_key, read_key)
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["system_monitor"].stop()
        app.extensions["task_manager"].shutdown(timeout=10)
        app.extensions["model_registry"].stop()
        app.extensions["chain"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright; the tests skip, loudly, only when it is not installed."""
    if not CHROMIUM.exists():
        message = (f"CHROMIUM IS NOT INSTALLED ({CHROMIUM}): the dashboard's browser tests did NOT run. "
                   "Install it with `apt-get install chromium` (.ci/run does).")
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page_errors() -> PageErrors:
    """Errors the current page reported."""
    return PageErrors()


@pytest.fixture
def page(browser, page_errors: PageErrors):
    """A fresh desktop-sized tab (its own session storage) that must end without unexpected page errors."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: page_errors.messages.append(f"uncaught: {exc}"))
    tab.on("console", lambda msg: page_errors.messages.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert page_errors.unexpected() == [], page_errors.messages


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, agent: LiveAgent, key: str) -> None:
    """Open the dashboard and sign in with `key`, as a person would."""
    page.goto(agent.url + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#nav:not([hidden])")
    page.wait_for_selector("#connection.live")
