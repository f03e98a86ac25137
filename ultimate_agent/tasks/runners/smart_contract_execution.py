"""smart_contract_execution: call a public method of TaskRewards or a token with the agent's wallet."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length

from ...chain import calls
from ...chain.service import chain_service
from ...errors import InvalidRequest
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType


class Config(Schema):
    """smart_contract_execution configuration: contract type, method and its parameters."""

    contract_type = fields.String(required=True, validate=Length(1, 32),
                                  metadata={"description": "task_rewards, PAIN, AI, USDC or BTC"})
    method = fields.String(required=True, validate=Length(1, 64),
                           metadata={"description": "A public method of the contract's ABI"})
    params = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "By ABI name or snake_case; amounts in whole units"})

    @validates_schema
    def _check_call(self, data: dict[str, Any], **_: Any) -> None:
        # Checked against the ABI at submission, so a bad call is a 400, not a failed task.
        try:
            calls.resolve_call(data["contract_type"], data["method"], data["params"])
        except InvalidRequest as exc:
            field = str(exc.details.get("field", "params")).split(".")[0]
            raise ValidationError(exc.message, field_name=field) from exc


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Execute the call (sent once, even if the task is resumed) and keep the receipt and events."""
    ctx.progress(10, {"stage": "sending", "contract_type": config["contract_type"], "method": config["method"]})
    outcome = calls.execute(chain_service(), config["contract_type"], config["method"], config["params"],
                            origin_task=ctx.task_id)
    ctx.progress(100, {"stage": "done"})
    return TaskOutcome(result=outcome)


TASK_TYPE = TaskType(
    name="smart_contract_execution",
    run=run,
    schema=Config,
    description="Call a public method of TaskRewards or a token contract with the agent's wallet",
    ai_workload=False,
    default_estimate_seconds=1.0,
)
