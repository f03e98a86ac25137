"""Task commands: the task manager's operations over the remote channel."""

from __future__ import annotations

from typing import Any

from flask import Flask
from marshmallow import Schema, fields, validate

from ..tasks.manager import task_manager
from .registry import Command

PRIORITY = validate.Range(min=1, max=10)
TASK_ID = fields.String(required=True, validate=validate.Length(min=1, max=64))


class StartTaskParams(Schema):
    """start_task parameters (as POST /api/start_task)."""

    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    config = fields.Dict(load_default=dict)
    priority = fields.Integer(load_default=5, validate=PRIORITY)


class TaskIdParams(Schema):
    """Parameters naming one task."""

    task_id = TASK_ID


class PriorityParams(TaskIdParams):
    """set_task_priority parameters."""

    priority = fields.Integer(required=True, validate=PRIORITY)


def start_task(_app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Validate and queue a task."""
    return task_manager().submit(params["type"], params["config"], params["priority"])


def cancel_task(_app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Cancel a queued, paused or running task."""
    return task_manager().cancel(params["task_id"])


def pause_task(_app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Pause a task at its next batch boundary."""
    return task_manager().pause(params["task_id"])


def resume_task(_app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Resume a paused task."""
    return task_manager().resume(params["task_id"])


def set_task_priority(_app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Change a task's priority (1-10)."""
    return task_manager().set_priority(params["task_id"], params["priority"])


COMMANDS = (
    Command("start_task", start_task, StartTaskParams, description="Start a new task"),
    Command("cancel_task", cancel_task, TaskIdParams, description="Cancel a task"),
    Command("pause_task", pause_task, TaskIdParams, description="Pause task execution"),
    Command("resume_task", resume_task, TaskIdParams, description="Resume a paused task"),
    Command("set_task_priority", set_task_priority, PriorityParams, description="Change a task's priority"),
)
