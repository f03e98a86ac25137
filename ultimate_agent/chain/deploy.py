"""Deploying the contracts on a development node and provisioning the agent's wallet there.

A development node (the embedded anvil, or one a test starts) has unlocked, pre-funded accounts; the
first of them deploys, owns the contracts, funds the reward pool and gives the agent gas money.
"""

from __future__ import annotations

import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from .artifacts import TASK_REWARDS, TOKENS, abi_of, bytecode_of

log = logging.getLogger(__name__)
DEPLOYMENT_FILE = "contracts.json"


def to_units(amount: float | str | Decimal, decimals: int) -> int:
    """Token units -> base units, exactly (through Decimal, never through float arithmetic)."""
    return int(Decimal(str(amount)).scaleb(decimals).to_integral_value())


def deploy_contracts(w3: Web3, deployer: str, max_reward_eth: float, pool_eth: float) -> dict[str, str]:
    """Deploy the four tokens and TaskRewards from `deployer`, fund the pool; returns the addresses."""
    addresses: dict[str, str] = {}
    for currency, spec in TOKENS.items():
        addresses[currency] = _deploy(w3, deployer, "AgentToken", spec.name, spec.symbol, spec.decimals, deployer)
    addresses[TASK_REWARDS] = _deploy(w3, deployer, "TaskRewards", deployer, to_units(max_reward_eth, 18))
    _transact(w3, {"from": deployer, "to": addresses[TASK_REWARDS], "value": to_units(pool_eth, 18)})
    log.info("Deployed TaskRewards at %s and %d tokens", addresses[TASK_REWARDS], len(TOKENS))
    return addresses


def provision_agent(w3: Web3, deployer: str, contracts: dict[str, str], agent: str, gas_eth: float,
                    token_grant: dict[str, float]) -> None:
    """Authorise `agent` to claim rewards, give it gas money and its starting token grant (dev chains)."""
    rewards = w3.eth.contract(address=contracts[TASK_REWARDS], abi=abi_of("TaskRewards"))
    if not rewards.functions.authorizedAgents(agent).call():
        _transact(w3, rewards.functions.authorizeAgent(agent).build_transaction({"from": deployer}))
    if gas_eth and w3.eth.get_balance(agent) < to_units(gas_eth, 18) // 2:
        _transact(w3, {"from": deployer, "to": agent, "value": to_units(gas_eth, 18)})
    for currency, amount in token_grant.items():
        if currency not in contracts or not amount:
            continue
        token = w3.eth.contract(address=contracts[currency], abi=abi_of("AgentToken"))
        if token.functions.balanceOf(agent).call() == 0:
            units = to_units(amount, TOKENS[currency].decimals)
            _transact(w3, token.functions.mint(agent, units).build_transaction({"from": deployer}))


def contracts_deployed(w3: Web3, contracts: dict[str, str]) -> bool:
    """Whether code lives at every recorded address (a fresh node has none)."""
    return bool(contracts) and all(len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0
                                   for address in contracts.values())


def read_deployment(chain_dir: Path) -> dict[str, Any]:
    """The recorded deployment of the embedded chain, or {} before the first one."""
    try:
        return json.loads((chain_dir / DEPLOYMENT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_deployment(chain_dir: Path, deployment: dict[str, Any]) -> None:
    """Record the deployment atomically."""
    path = chain_dir / DEPLOYMENT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(deployment, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _deploy(w3: Web3, deployer: str, contract_name: str, *args: Any) -> str:
    factory = w3.eth.contract(abi=abi_of(contract_name), bytecode=bytecode_of(contract_name))
    receipt = _transact(w3, factory.constructor(*args).build_transaction({"from": deployer}))
    return receipt["contractAddress"]


def _transact(w3: Web3, tx: dict[str, Any]) -> dict[str, Any]:
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx), timeout=60, poll_latency=0.05)
    if receipt["status"] != 1:
        raise RuntimeError(f"Deployment transaction {Web3.to_hex(receipt['transactionHash'])} reverted")
    return receipt
