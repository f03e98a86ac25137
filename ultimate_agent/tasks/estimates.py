"""Duration estimates that learn from how long past tasks of the same type took."""

from __future__ import annotations

import statistics
from typing import Any

from ..errors import InvalidRequest
from ..extensions import db
from ..models import TaskRecord
from .registry import TaskType

HISTORY_SIZE = 20


def estimate_duration(task_type: TaskType, config: dict[str, Any]) -> float:
    """Seconds this task should take: median seconds per work unit of recent runs times its units."""
    units = max(task_type.work_units(config), 1e-9)
    rows = db.session.execute(
        db.select(TaskRecord.duration, TaskRecord.config)
        .where(TaskRecord.task_type == task_type.name, TaskRecord.status == "completed",
               TaskRecord.duration.is_not(None))
        .order_by(TaskRecord.end_time.desc())
        .limit(HISTORY_SIZE)
    ).all()
    per_unit = []
    for duration, past_config in rows:
        try:
            past_units = task_type.work_units(past_config or {})
        except (KeyError, TypeError, ValueError):
            continue
        if past_units > 0:
            per_unit.append(duration / past_units)
    if per_unit:
        return round(statistics.median(per_unit) * units, 1)
    try:
        default_units = max(task_type.work_units(task_type.validate({})), 1e-9)
    except InvalidRequest:  # a type with required keys has no default config: its estimate is per task
        default_units = 1.0
    return round(task_type.default_estimate_seconds * units / default_units, 1)
