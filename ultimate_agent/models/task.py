"""Task records: one row per task the agent ran or will run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

ACTIVE_STATES = ("queued", "running", "paused")
FINISHED_STATES = ("completed", "failed", "cancelled")


class TaskRecord(db.Model):
    """A task's configuration, state, progress and outcome."""

    __tablename__ = "task_records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    task_type: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=5)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ai_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ai_workload: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reward: Mapped[float] = mapped_column(Float, default=0.0)
    blockchain_tx: Mapped[str | None] = mapped_column(String(80), nullable=True)
    node_task_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    estimated_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    # How many times the task was re-queued after the agent stopped while it was pending or running.
    restarts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    start_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
