"""The transaction sender: one nonce sequence per wallet, shared safely by many threads."""

from __future__ import annotations

import threading

import pytest
from eth_account import Account
from web3 import Web3

from ultimate_agent.chain.artifacts import abi_of
from ultimate_agent.chain.errors import TransactionReverted
from ultimate_agent.chain.sender import TransactionSender

DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def funded_account(dev_chain):
    account = Account.create()
    dev_chain.w3.eth.wait_for_transaction_receipt(dev_chain.w3.eth.send_transaction(
        {"from": dev_chain.deployer, "to": account.address, "value": 10**18}))
    return account


def test_sends_from_many_threads_get_consecutive_nonces_and_all_confirm(dev_chain, funded_account):
    sender = TransactionSender(dev_chain.w3, funded_account, 31337)
    sent, errors = [], []

    def send() -> None:
        try:
            sent.append(sender.send({"to": DEAD, "value": 1}))
        except Exception as exc:  # collected: the assertion below shows any failure
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(s.nonce for s in sent) == list(range(20))
    assert all(sender.wait(s.tx_hash, 30)["status"] == 1 for s in sent)
    assert sender.nonce_errors == 0


def test_a_nonce_used_elsewhere_is_re_read_from_the_node_and_the_send_succeeds(dev_chain, funded_account):
    ours = TransactionSender(dev_chain.w3, funded_account, 31337)
    ours.wait(ours.send({"to": DEAD, "value": 1}).tx_hash, 30)
    other = TransactionSender(dev_chain.w3, funded_account, 31337)  # e.g. a second process with the same key
    other.wait(other.send({"to": DEAD, "value": 1}).tx_hash, 30)
    again = ours.send({"to": DEAD, "value": 1})
    assert again.nonce == 2
    assert ours.wait(again.tx_hash, 30)["status"] == 1
    assert ours.nonce_errors == 1


def test_a_transaction_that_would_revert_is_refused_before_it_is_sent(dev_chain, funded_account):
    sender = TransactionSender(dev_chain.w3, funded_account, 31337)
    rewards = dev_chain.contracts["task_rewards"]
    contract = dev_chain.w3.eth.contract(address=rewards, abi=abi_of("TaskRewards"))
    data = contract.encode_abi("claimReward", [Web3.keccak(text="x"), 1])
    with pytest.raises(TransactionReverted, match="agent not authorised"):
        sender.send({"to": rewards, "data": data, "value": 0})
    assert dev_chain.w3.eth.get_transaction_count(funded_account.address) == 0
