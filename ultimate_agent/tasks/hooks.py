"""What other services do when a task ends: serve its model, book its reward, hear that it ended."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..extensions import db
from ..models import TaskRecord

log = logging.getLogger(__name__)


class TaskHooks:
    """Hook lists the services append to; each hook's failure is logged and never fails the task."""

    def __init__(self) -> None:
        # Called with the record after success, before task_completed is announced; may return a name
        # under which the task's model is now served (the model registry's hook does).
        self.completion: list[Callable[[TaskRecord], str | None]] = []
        # Called with (task_id, task_type, result) after success; returns the reward booked for the task
        # (paid later, in the background, by the chain service) or None.
        self.reward: list[Callable[[str, str, Any], float | None]] = []
        # Called with the record once a task has ended (completed, failed or cancelled; not interrupted,
        # which resumes at the next start). The network client reports node tasks back through this.
        self.end: list[Callable[[TaskRecord], None]] = []

    def run_completion(self, record: TaskRecord) -> None:
        """Let the completion hooks act on a successful task; a served model's name goes into its result."""
        for hook in self.completion:
            try:
                served_as = hook(record)
            except Exception:
                log.exception("Completion hook failed for task %s", record.task_id)
                continue
            if served_as:
                record.result = {**(record.result or {}), "served_as": served_as}
                db.session.commit()

    def book_reward(self, record: TaskRecord) -> float:
        """Book the task's reward with the first reward hook that grants one; 0.0 when none does."""
        for hook in self.reward:
            try:
                amount = hook(record.task_id, record.task_type, record.result)
            except Exception:
                log.exception("Reward for task %s could not be booked", record.task_id)
                continue
            if amount:
                record.reward = amount
                db.session.commit()
                return amount
        return 0.0

    def run_end(self, record: TaskRecord) -> None:
        """Tell the end hooks a task has ended."""
        for hook in self.end:
            try:
                hook(record)
            except Exception:
                log.exception("End hook failed for task %s", record.task_id)
