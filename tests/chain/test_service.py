"""ChainService housekeeping: pending transactions nobody waits for are settled from the chain."""

from __future__ import annotations

import time

from agent_support import admin_key_of
from chain_fixtures import down_network
from web3 import Web3

from ultimate_agent.chain.artifacts import abi_of
from ultimate_agent.chain.ledger import record_sent
from ultimate_agent.chain.sender import SentTransaction
from ultimate_agent.extensions import db
from ultimate_agent.models import ChainTransaction

DEAD = "0x000000000000000000000000000000000000dEaD"


def row_of(app, tx_hash: str) -> ChainTransaction:
    with app.app_context():
        row = db.session.scalar(db.select(ChainTransaction).where(ChainTransaction.tx_hash == tx_hash))
        db.session.expunge(row)
        return row


def test_a_transaction_whose_caller_stopped_waiting_is_confirmed_from_its_receipt(chain_app, dev_chain):
    chain = chain_app.extensions["chain"]
    chain.claimer.stop()
    with chain_app.app_context():
        sent = chain.sender.send({"to": DEAD, "value": 5})
        record_sent(sent, "devnet", "transfer", "ETH", 5, 18)  # ...and the API call timed out here
        dev_chain.w3.eth.wait_for_transaction_receipt(sent.tx_hash)
        assert chain.settle_pending() == 1
    row = row_of(chain_app, sent.tx_hash)
    receipt = dev_chain.w3.eth.get_transaction_receipt(sent.tx_hash)
    assert (row.status, row.block_number, row.gas_used) == ("confirmed", receipt["blockNumber"], receipt["gasUsed"])


def test_a_transaction_whose_nonce_went_to_another_is_marked_failed(chain_app):
    chain = chain_app.extensions["chain"]
    chain.claimer.stop()
    with chain_app.app_context():
        mined = chain.sender.send({"to": DEAD, "value": 1})
        chain.sender.wait(mined.tx_hash, 30)
        # A transaction the node dropped: same nonce as the mined one, never on chain.
        dropped = SentTransaction("0x" + "ab" * 32, mined.nonce, chain.wallet.address, DEAD)
        record_sent(dropped, "devnet", "transfer", "ETH", 1, 18)
        chain.settle_pending(skip={mined.tx_hash})
    row = row_of(chain_app, dropped.tx_hash)
    assert row.status == "failed" and "nonce" in row.error


def test_the_claimer_settles_pending_transactions_on_its_own(chain_app):
    chain = chain_app.extensions["chain"]
    with chain_app.app_context():
        sent = chain.sender.send({"to": DEAD, "value": 7})
        record_sent(sent, "devnet", "transfer", "ETH", 7, 18)
    deadline = time.monotonic() + 15
    while row_of(chain_app, sent.tx_hash).status != "confirmed":
        assert time.monotonic() < deadline, "the claimer never settled the pending transaction"
        time.sleep(0.1)


def test_transactions_stay_readable_while_the_wallets_node_is_down(chain_app_factory):
    app = chain_app_factory(provision=False, CHAIN_NETWORKS=[down_network()])
    key = admin_key_of(app)
    response = app.test_client().get("/api/blockchain/transactions", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.get_json()["total_count"] == 0


def test_first_start_deploys_the_contracts_and_later_starts_reuse_them(app_factory, tmp_path):
    instance = tmp_path / "agent"
    first = app_factory(INSTANCE_PATH=str(instance), CHAIN_ENABLED=True, WALLET_SCRYPT_N=1024)
    chain = first.extensions["chain"]
    contracts = dict(chain.primary.contracts)
    assert set(contracts) == {"task_rewards", "PAIN", "AI", "USDC", "BTC"}
    w3 = chain.primary.web3
    assert all(len(w3.eth.get_code(address)) > 0 for address in contracts.values())
    rewards = w3.eth.contract(address=contracts["task_rewards"], abi=abi_of("TaskRewards"))
    assert rewards.functions.authorizedAgents(chain.wallet.address).call()
    assert w3.eth.get_balance(contracts["task_rewards"]) == Web3.to_wei(first.config["REWARD_POOL_ETH"], "ether")
    chain.stop()
    second = app_factory(INSTANCE_PATH=str(instance), CHAIN_ENABLED=True)
    assert second.extensions["chain"].primary.contracts == contracts


def test_a_missing_anvil_leaves_the_agent_up_and_the_chain_endpoints_saying_why(app_factory, tmp_path):
    app = app_factory(CHAIN_ENABLED=True, ANVIL_PATH=str(tmp_path / "no-anvil"), WALLET_SCRYPT_N=1024)
    key = admin_key_of(app)
    client = app.test_client()
    response = client.get("/api/blockchain/balance", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 503
    assert "ANVIL_PATH" in response.get_json()["error"]
    assert client.get("/api/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_status_summaries_use_the_background_probers_round_not_a_probe_per_request(chain_app, monkeypatch):
    chain = chain_app.extensions["chain"]
    deadline = time.monotonic() + 5
    while chain._probes[1] is None:
        assert time.monotonic() < deadline, "the prober never ran"
        time.sleep(0.02)
    network = chain.networks[0]
    probes = []
    monkeypatch.setattr(network, "probe", lambda *a, **k: probes.append(1) or {"name": network.name})
    with chain_app.app_context():
        for _ in range(5):
            assert chain.summary()["connected_networks"] == 1
    assert probes == []
    chain.stop()
    chain._prober.join(2)
    assert not chain._prober.is_alive()
