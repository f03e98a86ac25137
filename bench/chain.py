"""Reward claims on a real anvil node: the agent's claimer against two baselines measured in the same run.

- agent: N tasks book their reward from N threads at once (`ChainService.request_reward`); the claimer
  sends, confirms and records every claim. Prints claims/s, p50/p99 latency from booking to the
  database saying "confirmed", and the nonce errors the node reported (aim: zero).
- sequential: the same claims sent one at a time, each waiting for its receipt (the simple, correct way).
- naive concurrent: N threads each read the nonce from the node and send (what happens without one
  nonce sequence per wallet); prints how many the node refused.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402
from web3 import Web3  # noqa: E402

from ultimate_agent import create_app  # noqa: E402
from ultimate_agent.chain.artifacts import abi_of  # noqa: E402
from ultimate_agent.chain.calls import task_key  # noqa: E402
from ultimate_agent.chain.deploy import deploy_contracts, provision_agent  # noqa: E402
from ultimate_agent.chain.node import EmbeddedNode  # noqa: E402
from ultimate_agent.chain.sender import TransactionSender  # noqa: E402
from ultimate_agent.extensions import db  # noqa: E402
from ultimate_agent.models import Earning  # noqa: E402

AMOUNT_WEI = 10**15


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def authorised_account(w3: Web3, deployer: str, contracts: dict[str, str]):
    """A fresh key, authorised on TaskRewards and given gas money."""
    account = Account.create()
    provision_agent(w3, deployer, contracts, account.address, 100, {})
    return account


def claim_data(w3: Web3, contracts: dict[str, str], task_id: str) -> dict:
    """The claimReward call for one task id."""
    rewards = w3.eth.contract(address=contracts["task_rewards"], abi=abi_of("TaskRewards"))
    return {"to": rewards.address, "value": 0,
            "data": rewards.encode_abi("claimReward", [task_key(task_id), AMOUNT_WEI])}


def sequential(w3: Web3, deployer: str, contracts: dict[str, str], claims: int) -> dict:
    """One claim at a time: send, wait for the receipt, next."""
    sender = TransactionSender(w3, authorised_account(w3, deployer, contracts), 31337)
    latencies = []
    started = time.perf_counter()
    for _ in range(claims):
        began = time.perf_counter()
        sent = sender.send(claim_data(w3, contracts, f"seq-{uuid.uuid4().hex}"))
        assert sender.wait(sent.tx_hash, 60)["status"] == 1
        latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    return {"claims_per_s": claims / elapsed, "latencies": latencies, "nonce_errors": sender.nonce_errors}


def naive_concurrent(w3: Web3, deployer: str, contracts: dict[str, str], claims: int) -> dict:
    """N threads, each taking the nonce the node reports as next: collisions are refused by the node."""
    account = authorised_account(w3, deployer, contracts)
    refused, accepted = [], []
    gate = threading.Barrier(claims)

    def claim() -> None:
        tx = claim_data(w3, contracts, f"naive-{uuid.uuid4().hex}")
        tx.update(gas=200_000, chainId=31337, maxFeePerGas=10**10, maxPriorityFeePerGas=10**9)
        gate.wait()
        tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
        try:
            accepted.append(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))
        except Exception as exc:  # the node's refusal is what this baseline counts
            refused.append(str(exc))

    threads = [threading.Thread(target=claim) for _ in range(claims)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"accepted": len(accepted), "nonce_errors": len(refused)}


def agent_claims(rpc_url: str, deployer: str, w3: Web3, contracts: dict[str, str], claims: int) -> dict:
    """N threads book rewards through the agent at once; the claimer does the rest."""
    instance = tempfile.mkdtemp(prefix="bench-chain-")
    network = {"name": "bench", "chain_id": 31337, "rpc_url": rpc_url, "contracts": contracts}
    app = create_app({"INSTANCE_PATH": instance, "TESTING": True, "TASKS_AUTOSTART": False,
                      "AI_MODELS_AUTOLOAD": False, "MONITOR_AUTOSTART": False, "CHAIN_ENABLED": True,
                      "CHAIN_EMBEDDED": False, "CHAIN_NETWORKS": [network], "WALLET_SCRYPT_N": 1024,
                      "REWARD_SCHEDULE": {"default": AMOUNT_WEI / 10**18}})
    chain = app.extensions["chain"]
    provision_agent(w3, deployer, contracts, chain.wallet.address, 100, {})
    gate = threading.Barrier(claims)

    def book() -> None:
        gate.wait()
        with app.app_context():
            chain.request_reward(f"agent-{uuid.uuid4().hex}", "default")

    started = time.perf_counter()
    threads = [threading.Thread(target=book) for _ in range(claims)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while True:
        with app.app_context():
            done = db.session.scalar(db.select(db.func.count()).select_from(Earning)
                                     .where(Earning.status == "confirmed"))
        if done >= claims:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    with app.app_context():
        rows = db.session.scalars(db.select(Earning)).all()
        latencies = [(row.confirmed_at - row.timestamp).total_seconds() for row in rows]
        failed = sum(1 for row in rows if row.attempts > 1)
    chain.stop()
    return {"claims_per_s": claims / elapsed, "latencies": latencies, "nonce_errors": chain.sender.nonce_errors,
            "retried": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--sequential-claims", type=int, default=None,
                        help="claims for the sequential baseline (default --claims; fewer with --block-time)")
    parser.add_argument("--block-time", type=float, default=None,
                        help="interval mining in seconds, like a real network (default: a block per transaction)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    node = EmbeddedNode(Path(tempfile.mkdtemp(prefix="bench-anvil-")), block_time=args.block_time)
    node.start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        deployer = w3.eth.accounts[0]
        contracts = deploy_contracts(w3, deployer, 1.0, 1_000)
        baseline = sequential(w3, deployer, contracts, args.sequential_claims or args.claims)
        naive = naive_concurrent(w3, deployer, contracts, args.claims)
        agent = agent_claims(node.rpc_url, deployer, w3, contracts, args.claims)
    finally:
        node.stop()
    ms = lambda seconds: seconds * 1000  # noqa: E731
    mining = f"a block every {args.block_time:g} s" if args.block_time else "a block per transaction"
    print(f"reward claims on anvil ({mining}): {args.claims} claims "
          f"({args.sequential_claims or args.claims} for the sequential baseline)")
    print(f"  sequential send+wait : {baseline['claims_per_s']:8.1f} claims/s   "
          f"p50 {ms(statistics.median(baseline['latencies'])):6.1f} ms   "
          f"p99 {ms(percentile(baseline['latencies'], 99)):6.1f} ms   nonce errors {baseline['nonce_errors']}")
    print(f"  naive concurrent     : {naive['accepted']:8d} accepted   nonce errors {naive['nonce_errors']}")
    print(f"  agent claimer        : {agent['claims_per_s']:8.1f} claims/s   "
          f"p50 {ms(statistics.median(agent['latencies'])):6.1f} ms   "
          f"p99 {ms(percentile(agent['latencies'], 99)):6.1f} ms   nonce errors {agent['nonce_errors']}   "
          f"retried {agent['retried']}")
    print(f"  ratio agent/sequential claims/s: {agent['claims_per_s'] / baseline['claims_per_s']:.2f}")


if __name__ == "__main__":
    main()
