"""Reward claims for completed tasks, made in the background so that neither the API nor a task waits.

A completed task gets a pending `Earning` row at once. One claimer thread sends `claimReward` for it,
polls the receipts of everything it has in flight, and on a receipt saves the chain state before it
marks the earning confirmed. A failed claim (node down, revert, lost transaction) is retried with
exponential backoff and jitter, and stays pending until it is confirmed. At start, every pending
earning is picked up again; one whose claim reached the chain before a crash is matched to its
`RewardClaimed` event instead of being claimed twice.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from web3 import Web3

from ..extensions import db
from ..models import Earning, TaskRecord
from ..realtime.bus import AGENT_ROOM, emit_event, task_room
from .artifacts import NATIVE_CURRENCY, NATIVE_DECIMALS, TASK_REWARDS, abi_of
from .calls import task_key
from .deploy import to_units
from .errors import ChainUnavailable, TransactionReverted
from .ledger import apply_receipt, confirm_earning, record_sent

if TYPE_CHECKING:
    from flask import Flask

    from .service import ChainService

log = logging.getLogger(__name__)
SEND_BATCH = 50  # claims sent per loop turn before receipts are polled
CLAIM_GAS_LIMIT = 150_000
SWEEP_INTERVAL = 5.0  # seconds between settling transactions whose sender stopped waiting for them


class RewardClaimer:
    """Claims each pending earning's reward through TaskRewards, one thread, many claims in flight."""

    def __init__(self, app: Flask, service: ChainService, retry_base: float, retry_max: float,
                 receipt_timeout: float) -> None:
        self.app = app
        self.service = service
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.receipt_timeout = receipt_timeout
        self._due: list[tuple[float, int, int]] = []  # (when, tiebreak, earning id)
        self._counter = itertools.count()
        self._in_flight: dict[int, tuple[str, float]] = {}  # earning id -> (tx hash, sent at)
        self._attempts: dict[int, int] = {}
        self._next_sweep = 0.0
        self._recovered: set[int] = set()  # left pending by an earlier run: checked on chain before claiming
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the claimer and pick up every earning a previous run left pending."""
        with self.app.app_context():
            pending = db.session.scalars(db.select(Earning.id).where(Earning.status == "pending")).all()
        self._recovered.update(pending)
        for earning_id in pending:
            self.enqueue(earning_id)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="reward-claimer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current step; pending claims resume at the next start."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def enqueue(self, earning_id: int, delay: float = 0.0) -> None:
        """Schedule a claim attempt for an earning."""
        with self._cond:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._counter), earning_id))
            self._cond.notify()

    def idle(self) -> bool:
        """Whether nothing is waiting or in flight (tests and the benchmark wait on it)."""
        with self._cond:
            return not self._due and not self._in_flight

    # -- the loop -------------------------------------------------------------------------------------

    def _run(self) -> None:
        with self.app.app_context():
            while not self._stop.is_set():
                due = self._take_due()
                for earning_id in due:
                    self._attempt(earning_id)
                if due:
                    db.session.commit()  # one commit for the batch of claims just sent
                self._poll_in_flight()
                if time.monotonic() >= self._next_sweep:
                    self._sweep_pending_transactions()
                    self._next_sweep = time.monotonic() + SWEEP_INTERVAL
                db.session.remove()
                with self._cond:
                    if self._stop.is_set():
                        break
                    wait = 0.02 if self._in_flight else 1.0
                    if self._due:
                        wait = min(wait, max(0.0, self._due[0][0] - time.monotonic()))
                    if wait > 0:
                        self._cond.wait(wait)

    def _take_due(self) -> list[int]:
        now = time.monotonic()
        taken: list[int] = []
        with self._cond:
            while self._due and self._due[0][0] <= now and len(taken) < SEND_BATCH:
                earning_id = heapq.heappop(self._due)[2]
                if earning_id not in self._in_flight and earning_id not in taken:
                    taken.append(earning_id)
        return taken

    def _attempt(self, earning_id: int) -> None:
        earning = db.session.get(Earning, earning_id)
        if earning is None or earning.status != "pending":
            return
        try:
            # An earning booked by this process and never tried cannot be on chain yet; anything else
            # (recovered at start, retried, hash known) is first checked against the chain.
            if (earning.attempts or earning.tx_hash or earning_id in self._recovered) and self._already_paid(earning):
                return
            self._send_claim(earning)
        except (ChainUnavailable, TransactionReverted) as exc:
            self._retry_later(earning, str(exc))
        except Exception as exc:  # a bug must not kill the claimer thread; the claim is retried
            log.exception("Reward claim for task %s failed unexpectedly", earning.task_id)
            self._retry_later(earning, f"{type(exc).__name__}: {exc}")

    def _already_paid(self, earning: Earning) -> bool:
        """Settle an earning whose claim is already on chain (sent before a crash or a lost reply)."""
        sender = self.service.sender
        if earning.tx_hash:
            receipt = sender.receipt(earning.tx_hash)
            if receipt is not None and receipt["status"] == 1:
                self._confirm([(earning.id, earning.tx_hash, receipt)])
                return True
        rewards = self._rewards_contract()
        if not rewards.functions.claimed(task_key(earning.task_id)).call():
            return False
        logs = rewards.events.RewardClaimed().get_logs(
            from_block=self.service.primary.from_block, argument_filters={"taskId": task_key(earning.task_id)})
        mine = [entry for entry in logs if entry["args"]["recipient"] == self.service.wallet.address]
        if not mine:
            earning.status, earning.last_error = "failed", "The task's reward was claimed by another wallet"
            db.session.commit()
            return True
        tx_hash = Web3.to_hex(mine[-1]["transactionHash"])
        self._confirm([(earning.id, tx_hash, sender.receipt(tx_hash) or {})])
        return True

    def _send_claim(self, earning: Earning) -> None:
        rewards = self._rewards_contract()
        units = to_units(earning.amount, NATIVE_DECIMALS)
        data = rewards.encode_abi("claimReward", [task_key(earning.task_id), units])
        # A fixed gas limit instead of an estimate per claim: a claim costs ~60k gas whatever its task, and
        # skipping eth_estimateGas saves a node round trip per claim. A claim that reverts anyway (e.g.
        # the wallet lost its authorisation) shows in its receipt and is retried with the reason.
        tx = {"to": rewards.address, "data": data, "value": 0, "gas": CLAIM_GAS_LIMIT}
        earning.attempts = (earning.attempts or 0) + 1
        sent = self.service.sender.send(tx)
        # The hash is written down with the batch, before the receipt is awaited. A crash before that
        # commit leaves an earning without a hash; the next start finds its claim by the RewardClaimed event.
        earning.tx_hash = sent.tx_hash
        record = (db.session.scalar(db.select(TaskRecord).where(TaskRecord.task_id == earning.task_id))
                  if earning.task_id else None)
        if record is not None:
            record.blockchain_tx = sent.tx_hash
        record_sent(sent, self.service.primary.name, "reward_claim", NATIVE_CURRENCY, units, NATIVE_DECIMALS,
                    task_id=earning.task_id, contract_type=TASK_REWARDS, method="claimReward", commit=False)
        with self._cond:
            self._in_flight[earning.id] = (sent.tx_hash, time.monotonic())

    def _poll_in_flight(self) -> None:
        with self._cond:
            in_flight = list(self._in_flight.items())
        mined = []
        for earning_id, (tx_hash, sent_at) in in_flight:
            try:
                receipt = self.service.sender.receipt(tx_hash)
            except ChainUnavailable as exc:
                self._drop_in_flight(earning_id, str(exc))
                continue
            if receipt is None:
                if time.monotonic() - sent_at > self.receipt_timeout:
                    self._drop_in_flight(earning_id, f"No receipt for {tx_hash} after {self.receipt_timeout:.0f} s")
                continue
            if receipt["status"] == 1:
                mined.append((earning_id, tx_hash, receipt))
            else:
                reason = self.service.revert_reason_of(tx_hash, receipt)
                self._drop_in_flight(earning_id, f"Claim transaction {tx_hash} reverted: {reason}", receipt=receipt)
        if mined:
            self._confirm(mined)
            with self._cond:
                for earning_id, _, _ in mined:
                    self._in_flight.pop(earning_id, None)

    def _sweep_pending_transactions(self) -> None:
        """Settle pending rows nobody waits for (an API call that timed out, a run that crashed)."""
        with self._cond:
            watched = {tx_hash for tx_hash, _ in self._in_flight.values()}
        try:
            self.service.settle_pending(skip=watched)
        except ChainUnavailable as exc:
            log.debug("Pending transactions not settled: %s", exc)

    def _drop_in_flight(self, earning_id: int, error: str, receipt: dict[str, Any] | None = None) -> None:
        with self._cond:
            self._in_flight.pop(earning_id, None)
        earning = db.session.get(Earning, earning_id)
        if earning is None:
            return
        if receipt is not None and earning.tx_hash:
            apply_receipt(earning.tx_hash, receipt, error=error)
        self._retry_later(earning, error)

    def _confirm(self, mined: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Confirm a batch of paid claims: save the chain state once, then one database commit."""
        # The chain state is saved before the database says "confirmed" (see node.py).
        self.service.persist_state()
        earnings = []
        for earning_id, tx_hash, receipt in mined:
            earning = db.session.get(Earning, earning_id)
            confirm_earning(earning, receipt, tx_hash, commit=False)
            earnings.append(earning)
            self._attempts.pop(earning_id, None)
            self._recovered.discard(earning_id)
        db.session.commit()
        for earning in earnings:
            payload = {"task_id": earning.task_id, "amount": earning.amount, "currency": earning.currency,
                       "transaction_hash": earning.tx_hash, "block_number": earning.block_number,
                       "gas_used": earning.gas_used, "status": "confirmed"}
            rooms = (AGENT_ROOM, task_room(earning.task_id)) if earning.task_id else (AGENT_ROOM,)
            emit_event(self.app, "reward_claimed", payload, rooms=rooms)

    def _retry_later(self, earning: Earning, error: str) -> None:
        attempt = self._attempts.get(earning.id, 0) + 1
        self._attempts[earning.id] = attempt
        delay = min(self.retry_max, self.retry_base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        earning.last_error = error
        db.session.commit()
        if attempt == 1 or attempt % 10 == 0:  # state changes, not every retry, reach the log
            log.warning("Reward claim for task %s failed (attempt %d), retrying in %.1f s: %s",
                        earning.task_id, attempt, delay, error)
        self.enqueue(earning.id, delay)

    def _rewards_contract(self) -> Any:
        network = self.service.primary
        return network.web3.eth.contract(address=network.require_contract(TASK_REWARDS), abi=abi_of("TaskRewards"))
