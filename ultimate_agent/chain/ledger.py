"""The database side of the wallet's transactions: recorded when sent, confirmed from the receipt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..extensions import db
from ..models import ChainTransaction, Earning, TaskRecord
from ..models.base import utcnow
from .sender import SentTransaction


def from_units(units: int, decimals: int) -> float:
    """Base units -> token units as a float for display (the exact figure is kept as text)."""
    return float(Decimal(units).scaleb(-decimals))


def record_sent(sent: SentTransaction, network: str, kind: str, currency: str, units: int, decimals: int,
                task_id: str | None = None, contract_type: str | None = None,
                method: str | None = None, commit: bool = True) -> ChainTransaction:
    """Write the row for a transaction the node just accepted (status pending); commits unless told not to."""
    row = ChainTransaction(tx_hash=sent.tx_hash, network=network, kind=kind, contract_type=contract_type,
                           method=method, currency=currency, amount=from_units(units, decimals),
                           amount_units=str(units), task_id=task_id, from_address=sent.sender,
                           to_address=sent.to, nonce=sent.nonce, status="pending")
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def apply_receipt(tx_hash: str, receipt: dict[str, Any], error: str | None = None) -> ChainTransaction | None:
    """Mirror a receipt onto the transaction's row (status, gas, block); the caller commits."""
    row = db.session.scalar(db.select(ChainTransaction).where(ChainTransaction.tx_hash == tx_hash))
    if row is None:
        return None
    row.status = "confirmed" if receipt.get("status") == 1 else "failed"
    row.gas_used = int(receipt["gasUsed"])
    row.block_number = int(receipt["blockNumber"])
    row.confirmed_at = utcnow()
    row.error = error if row.status == "failed" else None
    return row


def confirm_earning(earning: Earning, receipt: dict[str, Any], tx_hash: str, commit: bool = True) -> None:
    """Mark a reward paid: the earning, the task record and the claim's transaction row."""
    earning.status = "confirmed"
    earning.tx_hash = tx_hash
    earning.block_number = int(receipt["blockNumber"])
    earning.gas_used = int(receipt["gasUsed"])
    earning.confirmed_at = utcnow()
    earning.last_error = None
    if earning.task_id:
        record = db.session.scalar(db.select(TaskRecord).where(TaskRecord.task_id == earning.task_id))
        if record is not None:
            record.blockchain_tx = tx_hash
    apply_receipt(tx_hash, receipt)
    if commit:
        db.session.commit()


def pending_count() -> int:
    """The wallet's transactions sent but not yet confirmed or failed."""
    return int(db.session.scalar(db.select(db.func.count()).select_from(ChainTransaction)
                                 .where(ChainTransaction.status == "pending")) or 0)


def list_transactions(limit: int, page: int, currency: str | None) -> dict[str, Any]:
    """A page of the wallet's transactions, newest first, in the seed's shape."""
    query = db.select(ChainTransaction)
    count = db.select(db.func.count()).select_from(ChainTransaction)
    if currency:
        query = query.where(ChainTransaction.currency == currency)
        count = count.where(ChainTransaction.currency == currency)
    rows = db.session.scalars(query.order_by(ChainTransaction.created_at.desc(), ChainTransaction.id.desc())
                              .limit(limit).offset((page - 1) * limit)).all()
    return {"transactions": [row.to_dict() for row in rows], "total_count": int(db.session.scalar(count) or 0),
            "page": page, "limit": limit}

