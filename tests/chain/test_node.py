"""The embedded anvil node: re-attached across agent restarts, reloaded from its saved state after a crash."""

from __future__ import annotations

import json
import os
import signal

import pytest
from web3 import Web3

from ultimate_agent.chain.errors import ChainUnavailable
from ultimate_agent.chain.node import EmbeddedNode, _pid_alive

DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def node(tmp_path):
    nodes = []

    def make() -> EmbeddedNode:
        nodes.append(EmbeddedNode(tmp_path / "chain"))
        return nodes[-1]

    yield make
    for started in nodes:
        started.stop()


def send_eth(node: EmbeddedNode) -> str:
    w3 = Web3(Web3.HTTPProvider(node.rpc_url))
    tx_hash = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": DEAD, "value": 12345})
    w3.eth.wait_for_transaction_receipt(tx_hash)
    return Web3.to_hex(tx_hash)


def test_a_second_start_re_attaches_to_the_running_node(node):
    first = node()
    assert first.start() == "new"
    tx_hash = send_eth(first)
    second = node()
    assert second.start() == "attached"
    assert (second.pid, second.port) == (first.pid, first.port)
    assert Web3(Web3.HTTPProvider(second.rpc_url)).eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_a_node_killed_with_its_machine_is_reloaded_from_the_saved_state(node):
    first = node()
    first.start()
    tx_hash = send_eth(first)
    first.persist_state()
    os.kill(first.pid, signal.SIGKILL)
    first._process.wait()
    assert not _pid_alive(first.pid)
    second = node()
    assert second.start() == "restored"
    assert second.pid != first.pid
    w3 = Web3(Web3.HTTPProvider(second.rpc_url))
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(DEAD) == 12345
    # The chain goes on from where it was.
    assert w3.eth.block_number == receipt["blockNumber"]
    send_eth(second)
    assert w3.eth.get_balance(DEAD) == 24690


def test_stop_saves_the_state_stops_the_process_and_forgets_it(node, tmp_path):
    first = node()
    first.start()
    tx_hash = send_eth(first)
    pid = first.pid
    first.stop()
    assert not _pid_alive(pid)
    assert not (tmp_path / "chain" / "node.json").exists()
    assert (tmp_path / "chain" / "state.hex").stat().st_size > 0
    second = node()
    assert second.start() == "restored"
    assert Web3(Web3.HTTPProvider(second.rpc_url)).eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_a_stale_pid_file_is_ignored(node, tmp_path):
    (tmp_path / "chain").mkdir()
    (tmp_path / "chain" / "node.json").write_text(json.dumps({"pid": 2**22 - 1, "port": 1}))
    started = node()
    assert started.start() == "new"
    assert started.alive()


def test_rpc_to_a_node_that_is_gone_is_a_clear_unavailable_error(node):
    started = node()
    started.start()
    os.kill(started.pid, signal.SIGKILL)
    started._process.wait()
    assert started.alive() is False
    with pytest.raises(ChainUnavailable):
        started.persist_state()
