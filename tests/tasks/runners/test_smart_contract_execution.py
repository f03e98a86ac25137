"""smart_contract_execution through the task manager on a real anvil."""

from __future__ import annotations

import pytest
from agent_support import admin_headers_of

from .test_blockchain_transaction import run_task

DEAD = "0x000000000000000000000000000000000000dEaD"


def test_a_contract_call_task_keeps_the_transaction_hash_and_decoded_events(chain_app, dev_chain):
    record = run_task(chain_app, "smart_contract_execution",
                      {"contract_type": "task_rewards", "method": "claimReward",
                       "params": {"task_id": "external-job-7", "amount": 0.02}})
    assert record["status"] == "completed", record.get("error")
    result = record["result"]
    assert dev_chain.w3.eth.get_transaction_receipt(result["transaction_hash"])["status"] == 1
    assert result["execution_result"]["reward_claimed"] == 0.02
    assert result["execution_result"]["task_id"] == "external-job-7"


def test_a_reverting_call_fails_the_task_with_the_revert_reason(chain_app):
    record = run_task(chain_app, "smart_contract_execution",
                      {"contract_type": "task_rewards", "method": "claimReward",
                       "params": {"task_id": "too-much", "amount": 5}})
    assert record["status"] == "failed"
    assert "amount over cap" in record["error"]


@pytest.mark.parametrize(("config", "field"), [
    ({"contract_type": "nft", "method": "x"}, "contract_type"),
    ({"contract_type": "PAIN", "method": "burnEverything"}, "method"),
    ({"contract_type": "PAIN", "method": "transfer", "params": {"to": DEAD}}, "params"),
    ({"method": "transfer"}, "contract_type"),
])
def test_calls_that_do_not_match_the_abi_are_refused_at_submission(chain_app, config, field):
    response = chain_app.test_client().post("/api/start_task", headers=admin_headers_of(chain_app),
                                            json={"type": "smart_contract_execution", "config": config})
    assert response.status_code == 400
    assert response.get_json()["details"]["field"] == field
