"""Domain errors of the chain service, mapped to the API envelope by `errors.py`'s handler."""

from __future__ import annotations

from ..errors import Conflict, ServiceUnavailable


class ChainUnavailable(ServiceUnavailable):
    """The EVM node did not answer or the chain service is not running."""


class TransactionReverted(Conflict):
    """The contract refused the call; `details.revert_reason` says why."""

    def __init__(self, reason: str, details: dict | None = None):
        super().__init__(f"Transaction reverted: {reason}", details={"revert_reason": reason, **(details or {})})
        self.reason = reason
