"""blockchain_transaction: send ETH or a token from the agent's wallet and wait for the receipt."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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


class AmountField(fields.Field):
    """A positive amount given as a number or a numeric string, kept as exact decimal text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError("Must be a number.")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationError("Must be a number.") from exc
        if not amount.is_finite() or amount <= 0:
            raise ValidationError("Must be a positive number.")
        return str(amount)


class Config(Schema):
    """blockchain_transaction configuration: what to send, and to whom."""

    currency = fields.String(load_default=NATIVE_CURRENCY, validate=OneOf([NATIVE_CURRENCY, *TOKENS]),
                             metadata={"description": "ETH, PAIN, AI, USDC or BTC"})
    amount = AmountField(load_default=None, metadata={"description": f"In whole units (default {DEFAULT_AMOUNT})"})
    to = fields.String(load_default=None,
                       metadata={"description": "Recipient address (default: the agent's own wallet)"})

    @validates("to")
    def _check_to(self, value: str | None, **_: Any) -> None:
        if value is not None and not Web3.is_address(value):
            raise ValidationError("Not an address.")



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
