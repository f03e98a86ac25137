"""Chain fixtures (a pytest plugin of the root conftest): one real anvil per session, agents using it."""

from __future__ import annotations

import socket
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from flask import Flask
from web3 import Web3

from ultimate_agent.chain.deploy import deploy_contracts, provision_agent
from ultimate_agent.chain.node import EmbeddedNode
from ultimate_agent.extensions import db
from ultimate_agent.models import Earning

GRANT = {"PAIN": 1000, "AI": 250, "USDC": 500, "BTC": 0.05}
MAX_REWARD = 0.1


@dataclass
class DevChain:
    """A running anvil with the agent's contracts, deployed by its first dev account."""

    node: EmbeddedNode
    w3: Web3
    deployer: str
    contracts: dict[str, str]

    @property
    def network(self) -> dict:
        """A CHAIN_NETWORKS entry pointing at this node."""
        return {"name": "devnet", "chain_id": 31337, "rpc_url": self.node.rpc_url, "contracts": dict(self.contracts)}


@pytest.fixture(scope="session")
def dev_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChain]:
    """A real anvil node for the session (started the way the agent starts its embedded one)."""
    node = EmbeddedNode(tmp_path_factory.mktemp("dev-chain"))
    node.start()
    w3 = Web3(Web3.HTTPProvider(node.rpc_url))
    deployer = w3.eth.accounts[0]
    contracts = deploy_contracts(w3, deployer, MAX_REWARD, 1000)
    yield DevChain(node, w3, deployer, contracts)
    node.stop()


@pytest.fixture
def chain_app_factory(app_factory: Callable[..., Flask], dev_chain: DevChain) -> Callable[..., Flask]:
    """Agents on the session's dev chain (as a configured network), their wallets authorised and funded."""

    def build(provision: bool = True, **overrides) -> Flask:
        config = {"CHAIN_ENABLED": True, "CHAIN_EMBEDDED": False, "CHAIN_NETWORKS": [dev_chain.network],
                  "WALLET_SCRYPT_N": 2**10, "REWARD_RETRY_BASE_SECONDS": 0.05, "REWARD_RETRY_MAX_SECONDS": 0.5,
                  "REWARD_MAX_PER_CLAIM": MAX_REWARD, **overrides}
        app = app_factory(**config)
        chain = app.extensions["chain"]
        if provision and chain.wallet is not None:
            provision_agent(dev_chain.w3, dev_chain.deployer, dev_chain.contracts, chain.wallet.address, 10, GRANT)
        return app

    return build


@pytest.fixture
def chain_app(chain_app_factory: Callable[..., Flask]) -> Flask:
    """An agent whose wallet is authorised, funded and granted tokens on the dev chain."""
    return chain_app_factory()


def wait_for_earnings(app: Flask, count: int, timeout: float = 30.0, status: str = "confirmed") -> list[Earning]:
    """Wait until `count` earnings have `status`; returns them (detached copies of the rows' values)."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            rows = db.session.scalars(db.select(Earning).where(Earning.status == status)).all()
            if len(rows) >= count:
                db.session.expunge_all()
                return rows
        assert time.monotonic() < deadline, f"only {len(rows)} of {count} earnings became {status}"
        time.sleep(0.05)


@pytest.fixture
def wallet_of() -> Callable[[Flask], str]:
    """The address of an app's wallet."""
    return lambda app: app.extensions["chain"].wallet.address


def down_network(chain_id: int = 1) -> dict:
    """A CHAIN_NETWORKS entry whose RPC address is a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"name": "downnet", "chain_id": chain_id, "rpc_url": f"http://127.0.0.1:{port}"}


def repo_root() -> Path:
    """The repository root (where node_modules and scripts live)."""
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _no_stray_chain_nodes() -> Iterator[None]:
    """Stop any anvil this session left behind (an agent killed in a test outlives it by design), and say so."""
    started = time.time()
    yield
    binary = str(repo_root() / "node_modules")
    stray = [proc for proc in psutil.process_iter(["cmdline", "create_time"])
             if proc.info["cmdline"] and proc.info["cmdline"][0].startswith(binary)
             and "anvil" in proc.info["cmdline"][0] and proc.info["create_time"] >= started - 1]
    for proc in stray:
        proc.kill()
    if stray:
        warnings.warn(f"{len(stray)} anvil node(s) started by this test session were still running; stopped them",
                      stacklevel=1)
