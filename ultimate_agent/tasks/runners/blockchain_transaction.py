"""blockchain_transaction: send ETH or a token from the agent's wallet and wait for the receipt."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validates
from marshmallow.validate import OneOf
from web3 import Web3

from ...chain import calls
from ...chain.artifacts import NATIVE_CURRENCY, TOKENS
from ...chain.service import chain_service
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

DEFAULT_AMOUNT = "0.0001"


class Config(Schema):
    """blockchain_transaction configuration: what to send, and to whom."""

    currency = fields.String(load_default=NATIVE_CURRENCY, validate=OneOf([NATIVE_CURRENCY, *TOKENS]),
                             metadata={"description": "ETH, PAIN, AI, USDC or BTC"})
    amount = fields.Decimal(load_default=None, as_string=True, places=None,
                            metadata={"description": f"In whole units (default {DEFAULT_AMOUNT})"})
    to = fields.String(load_default=None,
                       metadata={"description": "Recipient address (default: the agent's own wallet)"})

    @validates("to")
    def _check_to(self, value: str | None, **_: Any) -> None:
        if value is not None and not Web3.is_address(value):
            raise ValidationError("Not an address.")

    @validates("amount")
    def _check_amount(self, value: Any, **_: Any) -> None:
        if value is not None and (not value.is_finite() or value <= 0):
            raise ValidationError("Must be a positive number.")


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Send the transfer (once, even if the task is resumed), then report the receipt's figures."""
    service = chain_service()
    to = config["to"] or service.wallet.address
    amount = config["amount"] if config["amount"] is not None else DEFAULT_AMOUNT
    ctx.progress(10, {"stage": "sending", "currency": config["currency"], "to": to})
    sent = calls.transfer(service, config["currency"], to, amount, task_id=ctx.task_id)
    ctx.progress(100, {"stage": "confirmed", "block_number": sent["block_number"]})
    result = {"transaction_hash": sent["transaction_hash"], "currency": sent["currency"], "amount": sent["amount"],
              "from": sent["from"], "to": sent["to"], "gas_used": sent["gas_used"],
              "block_number": sent["block_number"], "network": current_app.extensions["chain"].primary.name}
    return TaskOutcome(result=result)


TASK_TYPE = TaskType(
    name="blockchain_transaction",
    run=run,
    schema=Config,
    description="Transfer ETH or a token (PAIN, AI, USDC, BTC) from the agent's wallet; default a tiny self-transfer",
    ai_workload=False,
    default_estimate_seconds=1.0,
)
