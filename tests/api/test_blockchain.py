"""Blockchain endpoints against a real anvil: status, balances, transactions and contract execution."""

from __future__ import annotations

import uuid

import pytest
from agent_support import admin_headers_of
from chain_fixtures import GRANT, MAX_REWARD, down_network, wait_for_earnings
from web3 import Web3

from ultimate_agent.chain.artifacts import abi_of

DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def chain_client(chain_app):
    return chain_app.test_client()


@pytest.fixture
def admin(chain_app):
    return admin_headers_of(chain_app)


def execute(client, headers, contract_type, method, params):
    return client.post("/api/blockchain/smart-contract/execute", headers=headers,
                       json={"contract_type": contract_type, "method": method, "params": params})


def test_enhanced_status_reports_the_wallet_balances_and_live_networks(chain_app, chain_client, admin, dev_chain):
    body = chain_client.get("/api/v3/blockchain/enhanced", headers=admin).get_json()
    assert body["wallet"] == chain_app.extensions["chain"].wallet.address
    assert body["balance"]["ETH"] == pytest.approx(10.0)
    assert body["balance"]["PAIN"] == GRANT["PAIN"]
    assert body["connected_networks"] == 1
    assert body["smart_contracts"] == 5
    assert body["transaction_pool_size"] == 0
    assert body["smart_contracts_enabled"] is True and body["multi_currency_support"] is True
    assert body["network_connections"] == {"devnet": "connected"}
    [network] = body["networks"]
    assert network["status"] == "connected"
    assert network["block_number"] == dev_chain.w3.eth.block_number
    assert network["chain_id"] == 31337
    # The same document under the v4 mount.
    assert chain_client.get("/api/v4/blockchain/enhanced", headers=admin).get_json()["wallet"] == body["wallet"]


def test_a_network_that_is_down_is_reported_disconnected_without_an_error(chain_app_factory, dev_chain):
    down = down_network(chain_id=137)
    app = chain_app_factory(CHAIN_NETWORKS=[dev_chain.network, down], CHAIN_PRIMARY_NETWORK="devnet")
    response = app.test_client().get("/api/v3/blockchain/enhanced", headers=admin_headers_of(app))
    assert response.status_code == 200
    body = response.get_json()
    assert body["network_connections"] == {"devnet": "connected", "downnet": "disconnected"}
    assert body["connected_networks"] == 1
    downnet = next(n for n in body["networks"] if n["name"] == "downnet")
    assert downnet["block_number"] is None and downnet["error"]


def test_when_the_wallets_only_network_is_down_balance_is_a_503_envelope(chain_app_factory):
    app = chain_app_factory(provision=False, CHAIN_NETWORKS=[down_network()])
    client, headers = app.test_client(), admin_headers_of(app)
    response = client.get("/api/blockchain/balance", headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error_code"] == "SERVICE_UNAVAILABLE"
    enhanced = client.get("/api/v3/blockchain/enhanced", headers=headers)
    assert enhanced.status_code == 200
    assert enhanced.get_json()["network_connections"] == {"downnet": "disconnected"}


def test_blockchain_endpoints_answer_503_when_the_chain_is_disabled(client, auth_headers):
    response = client.get("/api/blockchain/balance", headers=auth_headers)
    assert response.status_code == 503
    assert response.get_json()["error_code"] == "SERVICE_UNAVAILABLE"


def test_balance_reads_the_chain_and_values_it_with_the_price_table(chain_app, chain_client, admin, dev_chain):
    body = chain_client.get("/api/blockchain/balance", headers=admin).get_json()
    address = chain_app.extensions["chain"].wallet.address
    assert body["wallet_address"] == address
    assert body["balances"]["ETH"] == pytest.approx(dev_chain.w3.eth.get_balance(address) / 1e18)
    assert body["balances"] == {"ETH": pytest.approx(10.0), **{k: float(v) for k, v in GRANT.items()}}
    prices = chain_app.config["PRICE_TABLE_USD"]
    expected = sum(amount * prices[currency] for currency, amount in body["balances"].items())
    assert body["total_value_usd"] == pytest.approx(expected, abs=0.01)


def test_claim_reward_returns_the_receipt_and_the_decoded_claim(chain_app, chain_client, admin, dev_chain):
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    response = execute(chain_client, admin, "task_rewards", "claimReward", {"task_id": task_id, "amount": 0.05})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    receipt = dev_chain.w3.eth.get_transaction_receipt(body["transaction_hash"])
    assert receipt["status"] == 1
    assert body["gas_used"] == receipt["gasUsed"] and body["block_number"] == receipt["blockNumber"]
    assert body["contract_address"] == dev_chain.contracts["task_rewards"]
    result = body["execution_result"]
    assert result["reward_claimed"] == 0.05
    assert result["task_id"] == task_id
    assert result["recipient"] == chain_app.extensions["chain"].wallet.address
    assert result["claim_timestamp"] == dev_chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert [event["event"] for event in result["events"]] == ["RewardClaimed"]
    # The claim is an earning, and the stats count it.
    assert chain_client.get("/api/stats", headers=admin).get_json()["total_earnings"] == pytest.approx(0.05)


def test_a_second_claim_for_the_same_task_is_a_409_with_the_revert_reason(chain_client, admin):
    params = {"task_id": f"task-{uuid.uuid4().hex[:8]}", "amount": 0.01}
    assert execute(chain_client, admin, "task_rewards", "claimReward", params).status_code == 200
    response = execute(chain_client, admin, "task_rewards", "claimReward", params)
    assert response.status_code == 409
    error = response.get_json()
    assert error["error_code"] == "CONFLICT"
    assert error["details"]["revert_reason"] == "TaskRewards: reward already claimed"


def test_a_claim_over_the_cap_is_refused_by_the_contract(chain_client, admin):
    response = execute(chain_client, admin, "task_rewards", "claimReward",
                       {"task_id": "task-over-cap", "amount": MAX_REWARD * 2})
    assert response.status_code == 409
    assert response.get_json()["details"]["revert_reason"] == "TaskRewards: amount over cap"


def test_an_unauthorised_wallet_cannot_claim(chain_app_factory, dev_chain):
    app = chain_app_factory(provision=False)
    # Gas money, but no authorisation from the contract's owner.
    wallet = app.extensions["chain"].wallet.address
    dev_chain.w3.eth.wait_for_transaction_receipt(
        dev_chain.w3.eth.send_transaction({"from": dev_chain.deployer, "to": wallet, "value": 10**18}))
    response = execute(app.test_client(), admin_headers_of(app), "task_rewards", "claimReward",
                       {"task_id": "task-unauthorised", "amount": 0.01})
    assert response.status_code == 409
    assert response.get_json()["details"]["revert_reason"] == "TaskRewards: agent not authorised"


def test_owner_only_methods_revert_with_the_custom_error(chain_client, admin, chain_app):
    response = execute(chain_client, admin, "task_rewards", "authorizeAgent",
                       {"agent": chain_app.extensions["chain"].wallet.address})
    assert response.status_code == 409
    assert response.get_json()["details"]["revert_reason"].startswith("OwnableUnauthorizedAccount(")


def test_token_transfer_through_execute_moves_real_balances(chain_app, chain_client, admin, dev_chain):
    response = execute(chain_client, admin, "usdc", "transfer", {"to": DEAD, "value": "12.5"})
    assert response.status_code == 200, response.get_json()
    [event] = response.get_json()["execution_result"]["events"]
    assert event["event"] == "Transfer" and int(event["args"]["value"]) == 12_500_000
    token = dev_chain.w3.eth.contract(address=dev_chain.contracts["USDC"], abi=abi_of("AgentToken"))
    assert token.functions.balanceOf(chain_app.extensions["chain"].wallet.address).call() == 487_500_000


def test_view_methods_are_read_without_a_transaction(chain_client, admin, dev_chain):
    response = execute(chain_client, admin, "btc", "balanceOf", {"account": DEAD})
    body = response.get_json()
    assert response.status_code == 200 and body["call"] is True
    token = dev_chain.w3.eth.contract(address=dev_chain.contracts["BTC"], abi=abi_of("AgentToken"))
    assert int(body["result"]) == token.functions.balanceOf(DEAD).call()
    assert execute(chain_client, admin, "BTC", "decimals", {}).get_json()["result"] == 8


@pytest.mark.parametrize(("body", "field"), [
    ({"contract_type": "nft", "method": "transfer", "params": {}}, "contract_type"),
    ({"contract_type": "task_rewards", "method": "selfdestruct", "params": {}}, "method"),
    ({"contract_type": "task_rewards", "method": "claimReward", "params": {"task_id": "t"}}, "params.amount"),
    ({"contract_type": "task_rewards", "method": "claimReward", "params": {"task_id": "t", "amount": "abc"}},
     "params.amount"),
    ({"contract_type": "task_rewards", "method": "claimReward", "params": {"task_id": "t", "amount": -1}},
     "params.amount"),
    ({"contract_type": "PAIN", "method": "transfer", "params": {"to": "0x123", "value": 1}}, "params.to"),
    ({"contract_type": "USDC", "method": "transfer", "params": {"to": DEAD, "value": "0.0000001"}}, "params.value"),
    ({"contract_type": "PAIN", "method": "transfer", "params": {"to": DEAD, "value": 1, "memo": "x"}}, "params.memo"),
    ({"method": "transfer"}, "contract_type"),
])
def test_bad_calls_are_400_naming_the_field_and_send_nothing(chain_client, admin, body, field):
    response = chain_client.post("/api/blockchain/smart-contract/execute", headers=admin, json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["error_code"] == "INVALID_REQUEST"
    assert error["details"]["field"] == field
    assert chain_client.get("/api/blockchain/transactions", headers=admin).get_json()["total_count"] == 0


def test_a_read_only_key_can_look_but_not_execute(chain_app, chain_client):
    from ultimate_agent.security.keys import create_key

    with chain_app.app_context():
        reader = {"Authorization": f"Bearer {create_key('reader', ['read'], actor='test')[1]}"}
    assert chain_client.get("/api/blockchain/balance", headers=reader).status_code == 200
    response = execute(chain_client, reader, "task_rewards", "claimReward", {"task_id": "t", "amount": 0.01})
    assert response.status_code == 403


def test_transactions_mirror_their_receipts_newest_first_with_paging_and_currency(chain_app, chain_client, admin,
                                                                                 dev_chain):
    execute(chain_client, admin, "task_rewards", "claimReward", {"task_id": "task-page-1", "amount": 0.02})
    execute(chain_client, admin, "PAIN", "transfer", {"to": DEAD, "value": 3})
    execute(chain_client, admin, "AI", "transfer", {"to": DEAD, "value": 4})
    page = chain_client.get("/api/blockchain/transactions?limit=2&page=1", headers=admin).get_json()
    assert page["total_count"] == 3 and page["page"] == 1 and page["limit"] == 2
    assert [tx["currency"] for tx in page["transactions"]] == ["AI", "PAIN"]
    second = chain_client.get("/api/blockchain/transactions?limit=2&page=2", headers=admin).get_json()
    [claim] = second["transactions"]
    receipt = dev_chain.w3.eth.get_transaction_receipt(claim["hash"])
    assert claim == {**claim, "amount": 0.02, "currency": "ETH", "task_id": "task-page-1", "status": "confirmed",
                     "gas_used": receipt["gasUsed"], "block_number": receipt["blockNumber"], "kind": "contract_call"}
    assert claim["timestamp"].endswith("Z")
    only_pain = chain_client.get("/api/blockchain/transactions?currency=PAIN", headers=admin).get_json()
    assert [tx["amount"] for tx in only_pain["transactions"]] == [3.0]
    assert Web3.to_checksum_address(only_pain["transactions"][0]["to"]) == dev_chain.contracts["PAIN"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "currency=DOGE", "limit=abc"])
def test_bad_transaction_queries_are_400(chain_client, admin, query):
    response = chain_client.get(f"/api/blockchain/transactions?{query}", headers=admin)
    assert response.status_code == 400
    assert response.get_json()["error_code"] == "INVALID_REQUEST"


def test_contracts_endpoint_lists_each_contract_with_its_public_methods(chain_client, admin, dev_chain):
    contracts = {c["contract_type"]: c for c in
                 chain_client.get("/api/v4/blockchain/contracts", headers=admin).get_json()["contracts"]}
    assert set(contracts) == {"task_rewards", "PAIN", "AI", "USDC", "BTC"}
    assert contracts["task_rewards"]["address"] == dev_chain.contracts["task_rewards"]
    claim = next(m for m in contracts["task_rewards"]["methods"] if m["name"] == "claimReward")
    assert claim["inputs"] == [{"name": "taskId", "type": "bytes32"}, {"name": "amount", "type": "uint256"}]


def test_manual_claims_confirm_as_earnings(chain_app, chain_client, admin):
    execute(chain_client, admin, "task_rewards", "claimReward", {"task_id": "task-earn", "amount": 0.03})
    [earning] = wait_for_earnings(chain_app, 1)
    assert earning.task_id == "task-earn" and earning.amount == 0.03 and earning.tx_hash


def test_enhanced_stats_carry_the_chain_summary(chain_client, admin, chain_app):
    with chain_app.app_context():
        chain_app.extensions["chain"].request_reward("task-summary", "default")
    wait_for_earnings(chain_app, 1)
    status = chain_client.get("/api/v3/stats/enhanced", headers=admin).get_json()["blockchain_status"]
    assert status == {"wallet_initialized": True, "smart_contracts_enabled": True, "connected_networks": 1,
                      "transaction_pool_size": 0}
    assert chain_client.get("/api/stats", headers=admin).get_json()["total_earnings"] == pytest.approx(0.001)
