"""Schemas for the Database Operations endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import QuerySchema, UTCDateTime


class DatabaseStatsSchema(Schema):
    """GET /api/database/stats."""

    task_records = fields.Integer()
    performance_metrics = fields.Integer()
    earnings_records = fields.Integer()
    ai_training_records = fields.Integer()
    database_size_mb = fields.Float()
    database_backend = fields.String()
    tables = fields.List(fields.String())


class TaskRecordQuerySchema(QuerySchema):
    """GET /api/database/tasks query."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    task_type = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf(
        ["queued", "running", "paused", "completed", "failed", "cancelled", "interrupted"]))


class TaskRecordSchema(Schema):
    """One stored task."""

    id = fields.String()
    task_id = fields.String()
    task_type = fields.String()
    status = fields.String()
    priority = fields.Integer()
    config = fields.Dict()
    progress = fields.Float()
    start_time = UTCDateTime(allow_none=True)
    end_time = UTCDateTime(allow_none=True)
    duration = fields.Float(allow_none=True)
    success = fields.Boolean(allow_none=True)
    reward = fields.Float()
    ai_result = fields.Dict(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    blockchain_tx = fields.String(allow_none=True)
    created_at = UTCDateTime()


class TaskRecordListSchema(Schema):
    """GET /api/database/tasks."""

    tasks = fields.List(fields.Nested(TaskRecordSchema))
    total_count = fields.Integer()
    filtered_count = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class PerformanceQuerySchema(QuerySchema):
    """GET /api/database/performance query."""

    hours = fields.Float(load_default=24.0, validate=validate.Range(min=0, max=24 * 90, min_inclusive=False))


class PerformanceRowSchema(Schema):
    """One stored performance sample."""

    timestamp = UTCDateTime()
    cpu_percent = fields.Float()
    memory_percent = fields.Float()
    gpu_percent = fields.Float()
    disk_percent = fields.Float()
    task_count = fields.Integer()
    health_score = fields.Float()
    efficiency_score = fields.Float(metadata={"description": "Resource headroom score (0-100) at that time"})


class PerformanceHistorySchema(Schema):
    """GET /api/database/performance."""

    metrics = fields.List(fields.Nested(PerformanceRowSchema))
    timeframe_hours = fields.Float()
    data_points = fields.Integer()
