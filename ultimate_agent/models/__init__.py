"""SQLAlchemy models, one module per aggregate."""

from .api_key import ApiKey
from .audit import AuditEntry
from .chain_transaction import ChainTransaction
from .earning import Earning
from .metrics import PerformanceMetric
from .task import ACTIVE_STATES, FINISHED_STATES, TaskRecord
from .training import AITrainingSession

__all__ = [
    "ACTIVE_STATES",
    "FINISHED_STATES",
    "AITrainingSession",
    "ApiKey",
    "AuditEntry",
    "ChainTransaction",
    "Earning",
    "PerformanceMetric",
    "TaskRecord",
]
