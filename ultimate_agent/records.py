"""Queries over stored records for the Database Operations endpoints."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect

from .extensions import db
from .models import AITrainingSession, Earning, PerformanceMetric, TaskRecord
from .models.base import utcnow


def _count(model: type) -> int:
    return int(db.session.scalar(db.select(func.count()).select_from(model)) or 0)


def database_size_mb() -> float:
    """Size of the database on disk (SQLite file with its WAL, or PostgreSQL's own figure)."""
    engine = db.engine
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        base = Path(engine.url.database)
        size = sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
        return round(size / 2**20, 3)
    if engine.dialect.name == "postgresql":
        size = db.session.scalar(db.text("SELECT pg_database_size(current_database())"))
        return round(size / 2**20, 3)
    return 0.0


def database_stats() -> dict[str, Any]:
    """Row counts per table, size on disk and table names."""
    tables = sorted(name for name in inspect(db.engine).get_table_names() if name != "alembic_version")
    return {
        "task_records": _count(TaskRecord),
        "performance_metrics": _count(PerformanceMetric),
        "earnings_records": _count(Earning),
        "ai_training_records": _count(AITrainingSession),
        "database_size_mb": database_size_mb(),
        "database_backend": db.engine.dialect.name,
        "tables": tables,
    }


def task_records(limit: int, offset: int = 0, task_type: str | None = None,
                 status: str | None = None) -> dict[str, Any]:
    """Task records, newest first, with the total and the filtered count."""
    query = db.select(TaskRecord)
    count_query = db.select(func.count()).select_from(TaskRecord)
    if task_type:
        query = query.where(TaskRecord.task_type == task_type)
        count_query = count_query.where(TaskRecord.task_type == task_type)
    if status:
        query = query.where(TaskRecord.status == status)
        count_query = count_query.where(TaskRecord.status == status)
    rows = db.session.scalars(
        query.order_by(TaskRecord.created_at.desc(), TaskRecord.id.desc()).limit(limit).offset(offset)
    ).all()
    return {
        "tasks": rows,
        "total_count": _count(TaskRecord),
        "filtered_count": int(db.session.scalar(count_query) or 0),
        "limit": limit,
        "offset": offset,
    }


def performance_history(hours: float) -> dict[str, Any]:
    """Stored performance samples from the last `hours`, oldest first."""
    since = utcnow() - timedelta(hours=hours)
    rows = db.session.scalars(
        db.select(PerformanceMetric).where(PerformanceMetric.timestamp >= since).order_by(PerformanceMetric.timestamp)
    ).all()
    return {"metrics": rows, "timeframe_hours": hours, "data_points": len(rows)}
