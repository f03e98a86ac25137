"""After a kill -9 of the agent (and then of its node too), every confirmed transaction is still on chain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from web3 import Web3

from ultimate_agent.chain.node import _pid_alive
from ultimate_agent.extensions import db
from ultimate_agent.models import ChainTransaction, Earning

AGENT_SCRIPT = """
import json, sys, time
from ultimate_agent import create_app
from ultimate_agent.extensions import db
from ultimate_agent.models import Earning
app = create_app({"INSTANCE_PATH": sys.argv[1], "MONITOR_AUTOSTART": False, "AI_MODELS_AUTOLOAD": False,
                  "CHAIN_ENABLED": True, "WALLET_SCRYPT_N": 1024})
manager = app.extensions["task_manager"]
with app.app_context():
    task_id = manager.submit("blockchain_transaction", {"currency": "USDC", "amount": "7",
                                                        "to": "0x000000000000000000000000000000000000dEaD"})["task_id"]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with app.app_context():
        earning = db.session.scalar(db.select(Earning).where(Earning.task_id == task_id, Earning.status == "confirmed"))
    if earning is not None:
        break
    time.sleep(0.05)
chain = app.extensions["chain"]
with app.app_context():
    print(json.dumps({"task_id": task_id, "balances": chain.balances(), "wallet": chain.wallet.address}), flush=True)
while True:
    time.sleep(1)
"""


def confirmed_hashes(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(ChainTransaction.tx_hash)
                                         .where(ChainTransaction.status == "confirmed")).all())


def assert_all_on_chain(app, hashes: list[str]) -> None:
    w3 = app.extensions["chain"].primary.web3
    for tx_hash in hashes:
        assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1, tx_hash


def test_confirmed_transactions_and_balances_survive_kill_9_of_the_agent_and_of_its_node(tmp_path, app_factory):
    instance = tmp_path / "agent"
    agent = subprocess.Popen([sys.executable, "-c", AGENT_SCRIPT, str(instance)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        line = agent.stdout.readline()
        assert line, "the agent printed nothing"
        before = json.loads(line)
    finally:
        agent.kill()  # SIGKILL: no atexit hook saves or stops anything
        agent.wait(10)
    assert before["balances"]["USDC"] == 493.0

    # 1. The agent restarts and re-attaches to its node, which outlived it.
    node_pid = json.loads((instance / "chain" / "node.json").read_text())["pid"]
    assert _pid_alive(node_pid)
    restarted = app_factory(INSTANCE_PATH=str(instance), CHAIN_ENABLED=True)
    chain = restarted.extensions["chain"]
    assert chain.node.pid == node_pid
    hashes = confirmed_hashes(restarted)
    assert len(hashes) == 2  # the transfer and the reward claim
    assert_all_on_chain(restarted, hashes)
    with restarted.app_context():
        assert chain.wallet.address == before["wallet"]
        assert chain.balances() == before["balances"]
        earning = db.session.scalar(db.select(Earning).where(Earning.task_id == before["task_id"]))
        assert earning.status == "confirmed" and earning.tx_hash in hashes

    # 2. The node dies too (the machine went down): the next start reloads it from the saved state.
    os.kill(node_pid, signal.SIGKILL)
    chain.claimer.stop()
    chain.node.pid = None  # this app's node is gone; nothing for its teardown to save
    reloaded = app_factory(INSTANCE_PATH=str(instance), CHAIN_ENABLED=True)
    assert reloaded.extensions["chain"].node.pid != node_pid
    assert_all_on_chain(reloaded, hashes)
    with reloaded.app_context():
        assert reloaded.extensions["chain"].balances() == before["balances"]
    assert Web3.is_checksum_address(before["wallet"])
