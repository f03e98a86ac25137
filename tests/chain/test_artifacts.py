"""The committed contract artifacts are exactly what `make contracts` builds from the Solidity sources."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from chain_fixtures import repo_root

from ultimate_agent.chain.artifacts import ARTIFACTS_FILE, load_artifacts


def test_committed_artifacts_match_a_fresh_compile_of_the_sources(tmp_path):
    if shutil.which("node") is None or not (repo_root() / "node_modules" / "solc").is_dir():
        pytest.fail("solc from npm is missing: run `make install`")
    output = tmp_path / "artifacts.json"
    subprocess.run(["node", str(repo_root() / "scripts" / "compile_contracts.mjs"), str(output)],
                   check=True, capture_output=True, timeout=120)
    assert json.loads(output.read_text()) == json.loads(ARTIFACTS_FILE.read_text())


def test_artifacts_hold_the_reward_and_token_contracts_with_their_public_api():
    contracts = load_artifacts()
    rewards = {entry["name"] for entry in contracts["TaskRewards"]["abi"] if entry["type"] in ("function", "event")}
    assert {"claimReward", "authorizeAgent", "revokeAgent", "claimed", "maxRewardPerClaim", "RewardClaimed"} <= rewards
    token = {entry["name"] for entry in contracts["AgentToken"]["abi"] if entry["type"] == "function"}
    assert {"transfer", "balanceOf", "decimals", "mint", "approve"} <= token
    assert all(contract["bytecode"].startswith("0x60") for contract in contracts.values())
