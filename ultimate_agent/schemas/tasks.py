"""Schemas for the task endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import UTCDateTime
from .database import TaskRecordSchema

PRIORITY = validate.Range(min=1, max=10)


class StartTaskSchema(Schema):
    """POST /api/start_task body."""

    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    config = fields.Dict(load_default=dict)
    priority = fields.Integer(load_default=5, validate=PRIORITY,
                              metadata={"description": "1-10, higher runs first"})


class StartTaskResponseSchema(Schema):
    """A submitted task."""

    success = fields.Boolean(dump_default=True)
    task_id = fields.String()
    task_type = fields.String()
    estimated_duration = fields.Float()
    status = fields.String(metadata={"description": "started, or queued behind other tasks"})
    priority = fields.Integer()


class TaskStateSchema(Schema):
    """Reply of cancel, pause and resume."""

    success = fields.Boolean(dump_default=True)
    task_id = fields.String()
    status = fields.String()


class PrioritySchema(Schema):
    """POST /api/v4/tasks/<id>/priority body."""

    priority = fields.Integer(required=True, validate=PRIORITY)


class PriorityResponseSchema(TaskStateSchema):
    """Reply of a priority change."""

    priority = fields.Integer()


class CurrentTaskSchema(Schema):
    """A task in /api/tasks."""

    task_id = fields.String()
    task_type = fields.String()
    status = fields.String()
    progress = fields.Float()
    priority = fields.Integer()
    start_time = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    ai_workload = fields.Boolean()
    estimated_duration = fields.Float(allow_none=True)
    details = fields.Dict(allow_none=True)


class _SchedulerSchema(Schema):
    current_tasks = fields.Integer()
    queued_tasks = fields.Integer()
    max_concurrent_tasks = fields.Integer()
    scheduler_running = fields.Boolean()


class TaskListSchema(Schema):
    """GET /api/tasks."""

    current_tasks = fields.Dict(keys=fields.String(), values=fields.Nested(CurrentTaskSchema))
    completed_tasks = fields.Integer()
    scheduler_status = fields.Nested(_SchedulerSchema)


class TaskDetailSchema(TaskRecordSchema):
    """GET /api/v4/tasks/<id>."""

    details = fields.Dict(allow_none=True)
    estimated_duration = fields.Float(allow_none=True)
    restarts = fields.Integer()
    ai_workload = fields.Boolean()
    node_task_id = fields.String(allow_none=True)
    history = fields.List(fields.Dict(), metadata={"description": "Per-epoch metrics of a training task"})


class TaskTypeSchema(Schema):
    """One runnable task type with its documented config keys."""

    name = fields.String()
    description = fields.String()
    ai_workload = fields.Boolean()
    training = fields.Boolean()
    config = fields.Dict()


class TaskTypeListSchema(Schema):
    """GET /api/v4/task_types."""

    task_types = fields.List(fields.Nested(TaskTypeSchema))
