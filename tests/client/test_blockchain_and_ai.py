"""SDK calls of the blockchain area (agent on the session's anvil) and the AI area (built-in models)."""

from __future__ import annotations

import threading
import uuid

import pytest

from ultimate_agent.client import Conflict, Forbidden, InvalidRequest, ModelNotFound


def test_wallet_balance_transactions_and_contracts(serve, chain_app, dev_chain):
    client = serve(chain_app).client()
    wallet = chain_app.extensions["chain"].wallet.address
    status = client.get_blockchain_status()
    assert status["wallet"] == wallet and status["smart_contracts_enabled"] is True
    balance = client.get_balance()
    assert balance["wallet_address"] == wallet and balance["balances"]["PAIN"] == 1000
    contracts = {c["contract_type"]: c for c in client.get_contracts()["contracts"]}
    assert contracts["task_rewards"]["address"] == dev_chain.contracts["task_rewards"]
    assert "claimReward" in {m["name"] for m in contracts["task_rewards"]["methods"]}


def test_execute_claims_on_chain_and_a_second_claim_is_a_typed_conflict(serve, chain_app, dev_chain):
    agent = serve(chain_app)
    client = agent.client()
    claims: list[dict] = []
    claimed = threading.Event()
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    result = client.execute_contract("task_rewards", "claimReward", {"task_id": task_id, "amount": 0.02})
    receipt = dev_chain.w3.eth.get_transaction_receipt(result["transaction_hash"])
    assert receipt["status"] == 1 and result["execution_result"]["reward_claimed"] == 0.02
    history = client.get_transactions(limit=5)
    assert history["transactions"][0]["hash"] == result["transaction_hash"]
    assert client.get_transactions(currency="PAIN")["transactions"] == []
    with pytest.raises(Conflict) as again:
        client.execute_contract("task_rewards", "claimReward", {"task_id": task_id, "amount": 0.02})
    assert again.value.details["revert_reason"] == "TaskRewards: reward already claimed"
    assert again.value.attempts == 1  # a 409 is an answer, not a failure to retry

    # A finished task's reward arrives as a live event too.
    client.on("reward_claimed", lambda data: (claims.append(data), claimed.set()))
    done = client.wait_for_task(client.start_task("data_processing")["task_id"], timeout=60)
    assert done["status"] == "completed"
    assert claimed.wait(30) and claims[0]["task_id"] == done["task_id"]


def test_a_read_key_cannot_execute(serve, chain_app):
    agent = serve(chain_app)
    reader = agent.client(api_key=agent.make_key(["read"], "reader"))
    assert reader.get_balance()["balances"]
    with pytest.raises(Forbidden) as caught:
        reader.execute_contract("task_rewards", "claimReward", {"task_id": "t", "amount": 0.01})
    assert caught.value.details["required"] == "write"


def test_ai_inference_models_and_capabilities(serve, ai_app):
    client = serve(ai_app).client()
    result = client.run_inference("sentiment", "This modular architecture is amazing!",
                                  {"return_confidence": True, "return_details": True})
    assert result["prediction"] == "positive" and sum(result["sentiment_scores"].values()) == pytest.approx(1)
    names = {m["name"] for m in client.list_models()["models"]}
    assert {"sentiment", "classification", "regression"} <= names
    assert client.get_model("classification")["status"] == "loaded"
    assert client.get_ai_capabilities()["models_loaded"] >= 4
    assert "training_active" in client.get_training_status()
    with pytest.raises(ModelNotFound):
        client.run_inference("no-such-model", "hi")
    with pytest.raises(ModelNotFound):
        client.get_model("no-such-model")
    with pytest.raises(InvalidRequest):
        client.run_inference("classification", "not an image")
    with pytest.raises(Conflict):
        client.delete_model("sentiment")  # a built-in cannot be deleted
