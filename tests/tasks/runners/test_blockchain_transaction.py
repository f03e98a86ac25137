"""blockchain_transaction through the task manager on a real anvil: a real transfer, its receipt, its reward."""

from __future__ import annotations

import time

import pytest
from agent_support import admin_headers_of
from chain_fixtures import wait_for_earnings

from ultimate_agent.chain.artifacts import abi_of
from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import ChainTransaction

DEAD = "0x000000000000000000000000000000000000dEaD"


def run_task(app, task_type: str, config: dict) -> dict:
    client, headers = app.test_client(), admin_headers_of(app)
    response = client.post("/api/start_task", headers=headers, json={"type": task_type, "config": config})
    assert response.status_code in (200, 201, 202), response.get_json()
    task_id = response.get_json()["task_id"]
    deadline = time.monotonic() + 30
    while True:
        record = client.get(f"/api/v4/tasks/{task_id}", headers=headers).get_json()
        if record["status"] in ("completed", "failed"):
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.05)


def test_a_token_transfer_task_moves_the_tokens_and_reports_the_receipt(chain_app, dev_chain):
    record = run_task(chain_app, "blockchain_transaction", {"currency": "PAIN", "amount": "2.5", "to": DEAD})
    assert record["status"] == "completed", record.get("error")
    result = record["result"]
    receipt = dev_chain.w3.eth.get_transaction_receipt(result["transaction_hash"])
    assert receipt["status"] == 1
    assert (result["gas_used"], result["block_number"]) == (receipt["gasUsed"], receipt["blockNumber"])
    token = dev_chain.w3.eth.contract(address=dev_chain.contracts["PAIN"], abi=abi_of("AgentToken"))
    assert token.functions.balanceOf(DEAD).call() >= 2_500_000_000_000_000_000
    assert result["to"] == DEAD and result["currency"] == "PAIN" and result["amount"] == 2.5


def test_the_default_is_a_tiny_self_transfer_and_the_task_earns_its_reward(chain_app, dev_chain):
    sock = socketio.test_client(chain_app, auth={"token": admin_headers_of(chain_app)["Authorization"][7:]})
    record = run_task(chain_app, "blockchain_transaction", {})
    assert record["status"] == "completed"
    wallet = chain_app.extensions["chain"].wallet.address
    tx = dev_chain.w3.eth.get_transaction(record["result"]["transaction_hash"])
    assert tx["from"] == wallet and tx["to"] == wallet and tx["value"] == 10**14
    [earning] = wait_for_earnings(chain_app, 1)
    assert earning.task_id == record["task_id"]
    assert earning.amount == chain_app.config["REWARD_SCHEDULE"]["default"]
    events = {packet["name"]: packet["args"][0] for packet in sock.get_received()}
    assert events["task_completed"]["reward"] == earning.amount
    assert events["reward_claimed"]["transaction_hash"] == earning.tx_hash
    final = chain_app.test_client().get(f"/api/v4/tasks/{record['task_id']}",
                                        headers=admin_headers_of(chain_app)).get_json()
    assert final["reward"] == earning.amount and final["blockchain_tx"] == earning.tx_hash
    sock.disconnect()


def test_a_resumed_transfer_task_waits_for_its_first_transaction_instead_of_sending_again(chain_app):
    from ultimate_agent.chain import calls

    chain = chain_app.extensions["chain"]
    with chain_app.app_context():
        first = calls.transfer(chain, "ETH", DEAD, "0.001", task_id="task-resumed")
        again = calls.transfer(chain, "ETH", DEAD, "0.001", task_id="task-resumed")
        assert again["transaction_hash"] == first["transaction_hash"]
        assert db.session.scalar(db.select(db.func.count()).select_from(ChainTransaction)
                                 .where(ChainTransaction.task_id == "task-resumed")) == 1


@pytest.mark.parametrize(("config", "field"), [
    ({"currency": "DOGE"}, "currency"), ({"to": "not-an-address"}, "to"), ({"amount": -1}, "amount"),
    ({"amount": "lots"}, "amount"),
])
def test_bad_transfer_configs_are_refused_at_submission(chain_app, config, field):
    response = chain_app.test_client().post("/api/start_task", headers=admin_headers_of(chain_app),
                                            json={"type": "blockchain_transaction", "config": config})
    assert response.status_code == 400
    assert response.get_json()["details"]["field"] == field


def test_blockchain_task_types_are_offered_only_with_the_chain(app, auth_headers, chain_app):
    without = app.test_client().get("/api/v4/task_types", headers=auth_headers).get_json()
    with_chain = chain_app.test_client().get("/api/v4/task_types", headers=admin_headers_of(chain_app)).get_json()
    names = lambda body: {t["name"] for t in body["task_types"]}  # noqa: E731
    assert "blockchain_transaction" not in names(without)
    assert {"blockchain_transaction", "smart_contract_execution"} <= names(with_chain)
