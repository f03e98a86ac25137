"""Chain transactions: every transaction the agent's wallet sent, mirroring its receipt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ChainTransaction(db.Model):
    """One transaction the wallet signed: a reward claim, a transfer or a contract call."""

    __tablename__ = "chain_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tx_hash: Mapped[str] = mapped_column(String(80), unique=True)
    network: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # reward_claim | transfer | contract_call
    contract_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    method: Mapped[str | None] = mapped_column(String(64), nullable=True)
    currency: Mapped[str] = mapped_column(String(16), default="ETH", index=True)
    amount: Mapped[float] = mapped_column(Float, default=0.0)
    # The exact amount in base units (wei, token units), as text: it can exceed 64 bits.
    amount_units: Mapped[str] = mapped_column(String(80), default="0")
    task_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str | None] = mapped_column(String(42), nullable=True)
    nonce: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|confirmed|failed
    gas_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    block_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def to_dict(self) -> dict:
        """The seed's transaction shape, plus what the receipt adds."""
        return {
            "hash": self.tx_hash,
            "amount": self.amount,
            "currency": self.currency,
            "task_id": self.task_id,
            "timestamp": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": self.status,
            "gas_used": self.gas_used,
            "block_number": self.block_number,
            "kind": self.kind,
            "network": self.network,
            "from": self.from_address,
            "to": self.to_address,
            "contract_type": self.contract_type,
            "method": self.method,
            "error": self.error,
        }
