"""The compiled contracts (ABI + bytecode, built by `make contracts`) and the tokens the agent knows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
ARTIFACTS_FILE = CONTRACTS_DIR / "artifacts.json"
TASK_REWARDS = "task_rewards"


@dataclass(frozen=True)
class TokenSpec:
    """An ERC-20 the agent deploys on its embedded chain; `currency` is how the API names it."""

    currency: str
    name: str
    symbol: str
    decimals: int


TOKENS: dict[str, TokenSpec] = {
    "PAIN": TokenSpec("PAIN", "Pain Network Token", "PAIN", 18),
    "AI": TokenSpec("AI", "AI Compute Token", "AI", 18),
    "USDC": TokenSpec("USDC", "USD Coin (agent network)", "USDC", 6),
    "BTC": TokenSpec("BTC", "Wrapped Bitcoin", "WBTC", 8),
}
NATIVE_CURRENCY = "ETH"
NATIVE_DECIMALS = 18


@lru_cache(maxsize=1)
def load_artifacts() -> dict[str, Any]:
    """The committed artifact file: {contract name: {abi, bytecode, source}}."""
    return json.loads(ARTIFACTS_FILE.read_text(encoding="utf-8"))["contracts"]


def abi_of(contract_name: str) -> list[dict[str, Any]]:
    """The ABI of a compiled contract (`AgentToken` or `TaskRewards`)."""
    return load_artifacts()[contract_name]["abi"]


def bytecode_of(contract_name: str) -> str:
    """The creation bytecode of a compiled contract."""
    return load_artifacts()[contract_name]["bytecode"]


def contract_name_for(contract_type: str) -> str:
    """Which compiled contract backs a contract type (`task_rewards` or a token currency)."""
    return "TaskRewards" if contract_type == TASK_REWARDS else "AgentToken"


def decimals_for(contract_type: str) -> int:
    """Decimals of the amounts a contract type deals in: ETH for the rewards pool, else the token's."""
    if contract_type == TASK_REWARDS:
        return NATIVE_DECIMALS
    return TOKENS[contract_type].decimals
