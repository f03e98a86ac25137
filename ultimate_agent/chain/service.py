"""ChainService: the agent's wallet on its networks, the contracts it uses, and what the API reports."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from web3 import Web3

from ..extensions import db
from ..models import ChainTransaction, Earning
from .artifacts import NATIVE_CURRENCY, NATIVE_DECIMALS, TASK_REWARDS, TOKENS, abi_of
from .deploy import contracts_deployed, deploy_contracts, provision_agent, read_deployment, write_deployment
from .errors import ChainUnavailable, TransactionReverted
from .ledger import apply_receipt, from_units, pending_count
from .networks import EMBEDDED_NETWORK, Network, configured_networks
from .node import EmbeddedNode
from .reverts import revert_reason
from .rewards import RewardClaimer
from .sender import TransactionSender
from .wallet import Wallet, load_or_create_wallet

log = logging.getLogger(__name__)
PROBE_INTERVAL = 10.0  # seconds between the background prober's rounds


class ChainService:
    """Starts the embedded node (or uses a configured network), the wallet and the reward claimer."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.config = app.config
        self.chain_dir = Path(app.instance_path) / "chain"
        self.node: EmbeddedNode | None = None
        self.networks: list[Network] = []
        self.primary: Network | None = None
        self.wallet: Wallet | None = None
        self.sender: TransactionSender | None = None
        self.claimer: RewardClaimer | None = None
        self.abis = [abi_of("TaskRewards"), abi_of("AgentToken")]
        self.start_error: str | None = None
        self._lock = threading.Lock()
        self._probes: tuple[float, list[dict[str, Any]] | None] = (0.0, None)
        self._stopping = threading.Event()
        self._prober: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bring the chain side up; a failure leaves the service reporting why instead of stopping the agent."""
        try:
            self._start()
        except Exception as exc:
            self.start_error = str(exc)
            log.error("The chain service did not start: %s", exc)

    def _start(self) -> None:
        config = self.config
        timeout = float(config["CHAIN_RPC_TIMEOUT"])
        self.wallet = load_or_create_wallet(self.chain_dir, config["WALLET_PASSWORD"], int(config["WALLET_SCRYPT_N"]))
        if config["CHAIN_EMBEDDED"]:
            self.node = EmbeddedNode(self.chain_dir, config["ANVIL_PATH"], block_time=config["CHAIN_BLOCK_TIME"])
            self.node.start()
            embedded = Network(EMBEDDED_NETWORK, self.node.chain_id, self.node.rpc_url, embedded=True, timeout=timeout)
            embedded.contracts, embedded.from_block = self._deploy_embedded(embedded)
            self.networks.append(embedded)
        self.networks += configured_networks(config["CHAIN_NETWORKS"], timeout)
        wanted = config["CHAIN_PRIMARY_NETWORK"]
        self.primary = next((n for n in self.networks if n.name == wanted), None) if wanted else (
            self.networks[0] if self.networks else None)
        if self.primary is None:
            raise ChainUnavailable("No network to use: enable CHAIN_EMBEDDED or configure CHAIN_NETWORKS")
        self.sender = TransactionSender(self.primary.web3, self.wallet.account, self.primary.chain_id, self.abis)
        if self.primary.contracts.get(TASK_REWARDS):
            self.claimer = RewardClaimer(self.app, self, float(config["REWARD_RETRY_BASE_SECONDS"]),
                                         float(config["REWARD_RETRY_MAX_SECONDS"]),
                                         float(config["CHAIN_RECEIPT_TIMEOUT"]))
            self.claimer.start()
        self._prober = threading.Thread(target=self._probe_networks, name="chain-prober", daemon=True)
        self._prober.start()
        log.info("Chain ready: wallet %s on %s (chain id %s)", self.wallet.address, self.primary.name,
                 self.primary.chain_id)

    def _probe_networks(self) -> None:
        # Probed here, not on the request path: a black-holed RPC host costs this thread its timeout,
        # never a status request.
        while not self._stopping.is_set():
            self.network_statuses()
            self._stopping.wait(PROBE_INTERVAL)

    def _deploy_embedded(self, network: Network) -> tuple[dict[str, str], int]:
        w3 = network.web3
        deployer = w3.eth.accounts[0]
        deployment = read_deployment(self.chain_dir)
        contracts = deployment.get("contracts") or {}
        if not contracts_deployed(w3, contracts):
            from_block = w3.eth.block_number
            contracts = deploy_contracts(w3, deployer, self.config["REWARD_MAX_PER_CLAIM"],
                                         self.config["REWARD_POOL_ETH"])
            deployment = {"chain_id": network.chain_id, "deployer": deployer, "contracts": contracts,
                          "from_block": from_block}
            write_deployment(self.chain_dir, deployment)
        provision_agent(w3, deployer, contracts, self.wallet.address, self.config["CHAIN_AGENT_GAS_ETH"],
                        self.config["CHAIN_TOKEN_GRANT"])
        self.node.persist_state()
        return contracts, int(deployment.get("from_block") or 0)

    def stop(self) -> None:
        """Stop claiming and probing, save the chain state and stop the embedded node."""
        self._stopping.set()
        if self.claimer is not None:
            self.claimer.stop()
        if self.node is not None:
            self.node.stop()

    @property
    def ready(self) -> bool:
        """Whether the wallet and a network are in place."""
        return self.primary is not None and self.sender is not None

    def require_ready(self) -> None:
        """503 with the reason when the chain side did not start."""
        if not self.ready:
            raise ChainUnavailable(f"The chain service is not running: {self.start_error or 'starting'}")

    def persist_state(self) -> None:
        """Save the embedded node's state (no-op on external networks, whose nodes keep their own)."""
        if self.node is not None and self.primary is not None and self.primary.embedded:
            self.node.persist_state()

    # -- transactions ---------------------------------------------------------------------------------

    def confirm(self, tx_hash: str) -> dict[str, Any]:
        """Wait for a transaction's receipt, save the chain state, then record it; a revert raises 409."""
        receipt = self.sender.wait(tx_hash, float(self.config["CHAIN_RECEIPT_TIMEOUT"]))
        self.persist_state()
        reason = None if receipt["status"] == 1 else self.revert_reason_of(tx_hash, receipt)
        apply_receipt(tx_hash, receipt, error=reason)
        db.session.commit()
        if reason is not None:
            raise TransactionReverted(reason, details={"transaction_hash": tx_hash})
        return receipt

    def revert_reason_of(self, tx_hash: str, receipt: dict[str, Any]) -> str:
        """Why a mined transaction reverted: replay it as a call on the state before its block."""
        w3 = self.primary.web3
        tx = w3.eth.get_transaction(tx_hash)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        try:
            w3.eth.call(call, receipt["blockNumber"] - 1)
        except Exception as exc:
            return revert_reason(exc, self.abis)
        return "reverted (the reason could not be replayed)"

    def settle_pending(self, skip: set[str] | frozenset[str] = frozenset()) -> int:
        """Mirror receipts onto pending rows; a row whose nonce was used by another transaction failed."""
        rows = db.session.scalars(db.select(ChainTransaction).where(
            ChainTransaction.status == "pending", ChainTransaction.network == self.primary.name)).all()
        rows = [row for row in rows if row.tx_hash not in skip]
        if not rows:
            return 0
        # The mined nonce is read before the receipts: a transaction mined in between then has a receipt,
        # so only one whose nonce was already used by another transaction can be taken for dropped.
        used = self.sender.confirmed_nonce()
        mined = [(row, receipt) for row in rows if (receipt := self.sender.receipt(row.tx_hash)) is not None]
        if mined:
            self.persist_state()  # saved before the rows say confirmed
        for row, receipt in mined:
            apply_receipt(row.tx_hash, receipt,
                          error=None if receipt["status"] == 1 else self.revert_reason_of(row.tx_hash, receipt))
        for row in rows:
            if row.status == "pending" and row.nonce < used:
                # Its nonce went to another transaction (a retry after it was dropped): it will never be mined.
                row.status, row.error = "failed", "Dropped: its nonce was used by another transaction"
        db.session.commit()
        return len(rows)

    def request_reward(self, task_id: str, task_type: str) -> float | None:
        """Task-manager hook: book the task's reward as pending and queue its claim; never waits on the chain."""
        schedule = self.config["REWARD_SCHEDULE"]
        amount = float(schedule.get(task_type, schedule.get("default", 0.0)))
        if amount <= 0 or self.claimer is None:
            return None
        existing = db.session.scalar(db.select(Earning).where(Earning.task_id == task_id,
                                                              Earning.status.in_(("pending", "confirmed"))))
        if existing is not None:
            return existing.amount
        earning = Earning(task_id=task_id, amount=amount, currency=NATIVE_CURRENCY, status="pending",
                          network=self.primary.name)
        db.session.add(earning)
        db.session.commit()
        self.claimer.enqueue(earning.id)
        return amount

    def record_manual_reward(self, task_id: str | None, amount: float, tx_hash: str, receipt: dict[str, Any]) -> None:
        """A claim made through the execute endpoint also counts as an earning."""
        if db.session.scalar(db.select(Earning).where(Earning.tx_hash == tx_hash)) is not None:
            return
        db.session.add(Earning(task_id=task_id, amount=amount, currency=NATIVE_CURRENCY, tx_hash=tx_hash,
                               block_number=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]),
                               network=self.primary.name, status="confirmed"))
        db.session.commit()

    # -- what the API reports -------------------------------------------------------------------------

    def network_statuses(self, max_age: float = 0.0) -> list[dict[str, Any]]:
        """Each network with `status` from a live probe (reused for `max_age` seconds)."""
        with self._lock:
            probed_at, statuses = self._probes
            if statuses is not None and time.monotonic() - probed_at <= max_age:
                return statuses
        statuses = [network.probe() for network in self.networks]
        with self._lock:
            self._probes = (time.monotonic(), statuses)
        return statuses

    def balances(self) -> dict[str, float]:
        """The wallet's balance per currency, read from the primary network."""
        self.require_ready()
        w3 = self.primary.web3
        address = self.wallet.address
        try:
            balances = {NATIVE_CURRENCY: from_units(w3.eth.get_balance(address), NATIVE_DECIMALS)}
            for currency, spec in TOKENS.items():
                token_address = self.primary.contracts.get(currency)
                if token_address:
                    token = w3.eth.contract(address=Web3.to_checksum_address(token_address), abi=abi_of("AgentToken"))
                    balances[currency] = from_units(token.functions.balanceOf(address).call(), spec.decimals)
        except ChainUnavailable:
            raise
        except Exception as exc:
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc
        return balances

    def balance_report(self) -> dict[str, Any]:
        """`/api/blockchain/balance`: balances, their value in the configured price table, the address."""
        balances = self.balances()
        prices = self.config["PRICE_TABLE_USD"]
        total = sum(amount * float(prices.get(currency, 0.0)) for currency, amount in balances.items())
        return {"balances": balances, "total_value_usd": round(total, 2), "wallet_address": self.wallet.address,
                "network": self.primary.name, "price_source": "configured PRICE_TABLE_USD"}

    def enhanced(self) -> dict[str, Any]:
        """`/api/v3/blockchain/enhanced`: wallet, balances, networks and contracts."""
        networks = self.network_statuses()
        try:
            balance = self.balances()
        except ChainUnavailable:
            balance = {}
        return {
            "wallet": self.wallet.address if self.wallet else None,
            "balance": balance,
            "connected_networks": sum(1 for n in networks if n["status"] == "connected"),
            "smart_contracts": len(self.primary.contracts) if self.primary else 0,
            "transaction_pool_size": pending_count(),
            "smart_contracts_enabled": bool(self.primary and self.primary.contracts.get(TASK_REWARDS)),
            "multi_currency_support": bool(self.primary and any(c in self.primary.contracts for c in TOKENS)),
            "network_connections": {n["name"]: n["status"] for n in networks},
            "networks": networks,
            "contracts": dict(self.primary.contracts) if self.primary else {},
            "error": self.start_error,
        }

    def summary(self) -> dict[str, Any]:
        """The `blockchain_status` block of the enhanced stats, from the background prober's last round."""
        networks = self.network_statuses(max_age=float("inf"))
        return {
            "wallet_initialized": self.wallet is not None,
            "smart_contracts_enabled": bool(self.primary and self.primary.contracts.get(TASK_REWARDS)),
            "connected_networks": sum(1 for n in networks if n["status"] == "connected"),
            "transaction_pool_size": pending_count(),
        }

    def diagnose(self) -> dict[str, Any]:
        """One pass/fail line for diagnostics: the primary network answers and the wallet is open."""
        if not self.ready:
            return {"status": "fail", "detail": self.start_error or "chain service not started"}
        probe = self.primary.probe()
        if probe["status"] != "connected":
            return {"status": "fail", "detail": f"{self.primary.name}: {probe.get('error', probe['status'])}"}
        return {"status": "pass", "detail": f"{self.primary.name} at block {probe['block_number']}, "
                                            f"wallet {self.wallet.address}"}


def chain_service(require_ready: bool = True) -> ChainService:
    """The running app's chain service; 503 when the agent runs without one (or it did not start)."""
    service = current_app.extensions.get("chain")
    if service is None:
        raise ChainUnavailable("Blockchain support is disabled (CHAIN_ENABLED is false)")
    if require_ready:
        service.require_ready()
    return service
