"""Signing and sending the wallet's transactions with one nonce sequence, safe across threads."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from .errors import ChainUnavailable, TransactionReverted
from .reverts import revert_reason

log = logging.getLogger(__name__)
GAS_MARGIN = 1.25
FEE_MAX_AGE = 1.0
_NONCE_MESSAGES = ("nonce too low", "nonce too high", "already known", "replacement transaction underpriced",
                   "invalid nonce")


@dataclass(frozen=True)
class SentTransaction:
    """A transaction the node accepted."""

    tx_hash: str
    nonce: int
    sender: str
    to: str | None


class TransactionSender:
    """Sends the wallet's transactions; nonces are handed out under one lock so threads never collide."""

    def __init__(self, w3: Web3, account: LocalAccount, chain_id: int, abis: list[list[dict]] | None = None) -> None:
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self._abis = abis or []
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        self._fee_lock = threading.Lock()
        self._fee_cache: tuple[float, int, int] | None = None
        # Nonce conflicts the node reported; with one sequence per wallet this stays at zero.
        self.nonce_errors = 0

    def send(self, tx: dict[str, Any]) -> SentTransaction:
        """Estimate gas (a revert raises `TransactionReverted`), price, sign with the next nonce, send."""
        tx = {**tx, "from": self.account.address}
        try:
            if "gas" not in tx:
                tx["gas"] = int(self.w3.eth.estimate_gas(tx) * GAS_MARGIN)
            base_fee, priority = self._fees()
        except (ContractLogicError, ContractCustomError) as exc:
            raise TransactionReverted(revert_reason(exc, self._abis)) from exc
        except Web3RPCError as exc:
            if "revert" in str(exc).lower():
                raise TransactionReverted(revert_reason(exc, self._abis)) from exc
            raise ChainUnavailable(f"The node refused the transaction: {exc}") from exc
        except Exception as exc:  # transport failures
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc
        tx.update(chainId=self.chain_id, maxPriorityFeePerGas=priority, maxFeePerGas=2 * base_fee + priority)
        tx.pop("from")
        with self._lock:
            for _ in range(3):
                if self._next_nonce is None:
                    self._next_nonce = self._pending_nonce()
                nonce = self._next_nonce
                signed = self.account.sign_transaction({**tx, "nonce": nonce})
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    if any(message in str(exc).lower() for message in _NONCE_MESSAGES):
                        # Someone else used this wallet (another process, a restore): re-read and retry.
                        self.nonce_errors += 1
                        log.warning("Nonce %s was rejected (%s); re-reading it from the node", nonce, exc)
                        self._next_nonce = None
                        continue
                    raise ChainUnavailable(f"The node refused the transaction: {exc}") from exc
                except Exception as exc:
                    # Unknown whether it arrived: re-read the nonce before the next send.
                    self._next_nonce = None
                    raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc
                self._next_nonce = nonce + 1
                return SentTransaction(Web3.to_hex(tx_hash), nonce, self.account.address, tx.get("to"))
        raise ChainUnavailable("The node kept rejecting the wallet's nonce")

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt, or None while the transaction is pending."""
        try:
            return dict(self.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None
        except Exception as exc:
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc

    def wait(self, tx_hash: str, timeout: float) -> dict[str, Any]:
        """Block until the receipt exists (API calls only; claims poll instead)."""
        try:
            return dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05))
        except Exception as exc:
            raise ChainUnavailable(f"No receipt for {tx_hash} within {timeout:.0f} s: {exc}") from exc

    def _fees(self) -> tuple[int, int]:
        """(base fee, priority fee), read at most once a second: fees move per block, not per send."""
        with self._fee_lock:
            if self._fee_cache is None or time.monotonic() - self._fee_cache[0] > FEE_MAX_AGE:
                base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas") or self.w3.eth.gas_price
                self._fee_cache = (time.monotonic(), base_fee, self.w3.eth.max_priority_fee)
            return self._fee_cache[1], self._fee_cache[2]

    def confirmed_nonce(self) -> int:
        """How many of the wallet's transactions are mined (the next nonce at the latest block)."""
        try:
            return self.w3.eth.get_transaction_count(self.account.address, "latest")
        except Exception as exc:
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc

    def _pending_nonce(self) -> int:
        try:
            return self.w3.eth.get_transaction_count(self.account.address, "pending")
        except Exception as exc:
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc
