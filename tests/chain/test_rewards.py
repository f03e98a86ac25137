"""Task rewards: booked at once, claimed on chain in the background, retried until confirmed."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from chain_fixtures import wait_for_earnings
from web3 import Web3

from ultimate_agent.chain.artifacts import abi_of
from ultimate_agent.chain.calls import task_key
from ultimate_agent.extensions import db
from ultimate_agent.models import ChainTransaction, Earning, TaskRecord
from ultimate_agent.monitoring.status import total_earnings


def rewards_contract(dev_chain):
    return dev_chain.w3.eth.contract(address=dev_chain.contracts["task_rewards"], abi=abi_of("TaskRewards"))


def owner_call(dev_chain, function) -> None:
    dev_chain.w3.eth.wait_for_transaction_receipt(function.transact({"from": dev_chain.deployer}))


def test_booking_a_reward_does_not_wait_for_the_chain_and_the_claim_confirms_later(chain_app, dev_chain):
    chain = chain_app.extensions["chain"]
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    balance_before = dev_chain.w3.eth.get_balance(chain.wallet.address)
    with chain_app.app_context():
        db.session.add(TaskRecord(id=task_id, task_id=task_id, task_type="cnn_training", status="completed"))
        db.session.commit()
        started = time.perf_counter()
        amount = chain.request_reward(task_id, "cnn_training")
        booked_in = time.perf_counter() - started
        assert amount == chain_app.config["REWARD_SCHEDULE"]["cnn_training"]
        pending = db.session.scalar(db.select(Earning).where(Earning.task_id == task_id))
        assert pending.status in ("pending", "confirmed")
    assert booked_in < 0.5  # one row written; the claim happens on the claimer thread
    [earning] = wait_for_earnings(chain_app, 1)
    receipt = dev_chain.w3.eth.get_transaction_receipt(earning.tx_hash)
    assert receipt["status"] == 1
    assert (earning.block_number, earning.gas_used) == (receipt["blockNumber"], receipt["gasUsed"])
    assert rewards_contract(dev_chain).functions.claimed(task_key(task_id)).call()
    gas_paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    expected = balance_before + Web3.to_wei(amount, "ether") - gas_paid
    assert dev_chain.w3.eth.get_balance(chain.wallet.address) == expected
    with chain_app.app_context():
        assert db.session.get(TaskRecord, task_id).blockchain_tx == earning.tx_hash
        claim = db.session.scalar(db.select(ChainTransaction).where(ChainTransaction.tx_hash == earning.tx_hash))
        assert (claim.kind, claim.status, claim.task_id) == ("reward_claim", "confirmed", task_id)
        assert total_earnings() == pytest.approx(amount)


def test_total_earnings_counts_confirmed_rewards_only(chain_app):
    with chain_app.app_context():
        db.session.add_all([Earning(task_id="a", amount=0.5, status="pending"),
                            Earning(task_id="b", amount=0.25, status="confirmed")])
        db.session.commit()
        chain_app.extensions["status_cache"].clear()
        assert total_earnings() == pytest.approx(0.25)


def test_a_task_type_with_no_reward_in_the_schedule_books_nothing(chain_app_factory):
    app = chain_app_factory(REWARD_SCHEDULE={"cnn_training": 0.01})
    with app.app_context():
        assert app.extensions["chain"].request_reward("task-free", "data_processing") is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Earning)) == 0


def test_concurrent_claims_from_many_threads_all_confirm_without_nonce_errors(chain_app, dev_chain):
    chain = chain_app.extensions["chain"]
    task_ids = [f"task-{uuid.uuid4().hex[:8]}" for _ in range(24)]

    def book(task_id: str) -> None:
        with chain_app.app_context():
            chain.request_reward(task_id, "default")

    threads = [threading.Thread(target=book, args=(task_id,)) for task_id in task_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    earnings = wait_for_earnings(chain_app, len(task_ids), timeout=60)
    assert {e.task_id for e in earnings} == set(task_ids)
    assert len({e.tx_hash for e in earnings}) == len(task_ids)
    assert chain.sender.nonce_errors == 0
    nonces = [dev_chain.w3.eth.get_transaction(e.tx_hash)["nonce"] for e in earnings]
    assert len(set(nonces)) == len(nonces)


def test_a_failed_claim_stays_pending_with_its_error_and_confirms_once_the_cause_is_fixed(chain_app, dev_chain):
    chain = chain_app.extensions["chain"]
    contract = rewards_contract(dev_chain)
    owner_call(dev_chain, contract.functions.revokeAgent(chain.wallet.address))
    try:
        with chain_app.app_context():
            chain.request_reward("task-revoked", "default")
        deadline = time.monotonic() + 10
        while True:
            with chain_app.app_context():
                earning = db.session.scalar(db.select(Earning).where(Earning.task_id == "task-revoked"))
                if earning.last_error:
                    break
            assert time.monotonic() < deadline, "the failed claim recorded no error"
            time.sleep(0.05)
        assert earning.status == "pending"
        assert "agent not authorised" in earning.last_error
    finally:
        owner_call(dev_chain, contract.functions.authorizeAgent(chain.wallet.address))
    [confirmed] = wait_for_earnings(chain_app, 1)
    assert confirmed.task_id == "task-revoked" and confirmed.last_error is None


def test_pending_claims_left_by_a_previous_run_are_claimed_at_the_next_start(chain_app_factory, tmp_path):
    first = chain_app_factory(INSTANCE_PATH=str(tmp_path / "agent"))
    first.extensions["chain"].claimer.stop()  # the process "dies" before it claims
    with first.app_context():
        first.extensions["chain"].request_reward("task-left-over", "default")
        assert db.session.scalar(db.select(Earning.status).where(Earning.task_id == "task-left-over")) == "pending"
    first.extensions["chain"].stop()
    second = chain_app_factory(INSTANCE_PATH=str(tmp_path / "agent"))
    [earning] = wait_for_earnings(second, 1)
    assert earning.task_id == "task-left-over"


def test_a_claim_that_reached_the_chain_before_a_crash_is_matched_not_claimed_twice(chain_app, dev_chain):
    chain = chain_app.extensions["chain"]
    chain.claimer.stop()
    # The previous run sent the claim, and died before it wrote the hash down.
    claim = rewards_contract(dev_chain).encode_abi("claimReward",
                                                   [task_key("task-crashed"), Web3.to_wei(0.001, "ether")])
    with chain_app.app_context():
        sent = chain.sender.send({"to": dev_chain.contracts["task_rewards"],
                                  "data": claim, "value": 0})
        dev_chain.w3.eth.wait_for_transaction_receipt(sent.tx_hash)
        db.session.add(Earning(task_id="task-crashed", amount=0.001, status="pending", network="devnet"))
        db.session.commit()
    chain.claimer.start()
    [earning] = wait_for_earnings(chain_app, 1)
    assert earning.tx_hash == sent.tx_hash
    with chain_app.app_context():
        assert db.session.scalar(db.select(Earning.attempts).where(Earning.task_id == "task-crashed")) == 0
