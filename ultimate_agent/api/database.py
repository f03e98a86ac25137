"""Database Operations API: stored tasks, performance history and table statistics."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from .. import records
from ..schemas.database import (
    DatabaseStatsSchema,
    PerformanceHistorySchema,
    PerformanceQuerySchema,
    TaskRecordListSchema,
    TaskRecordQuerySchema,
)
from .routing import api_route

blp = Blueprint("database", __name__, description="Stored records")


@api_route(blp, "/database/stats")
@blp.response(200, DatabaseStatsSchema)
def get_database_stats() -> dict[str, Any]:
    """Row counts, size on disk and tables."""
    return records.database_stats()


@api_route(blp, "/database/tasks")
@blp.arguments(TaskRecordQuerySchema, location="query")
@blp.response(200, TaskRecordListSchema)
def get_task_records(query: dict[str, Any]) -> dict[str, Any]:
    """Stored task records, newest first (`limit`, `offset`, `task_type`, `status`)."""
    return records.task_records(**query)


@api_route(blp, "/database/performance")
@blp.arguments(PerformanceQuerySchema, location="query")
@blp.response(200, PerformanceHistorySchema)
def get_performance_history(query: dict[str, Any]) -> dict[str, Any]:
    """Stored performance samples over the last `hours`."""
    return records.performance_history(query["hours"])
