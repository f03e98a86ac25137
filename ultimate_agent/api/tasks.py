"""Task API: list, start, cancel, pause, resume, prioritise and inspect tasks."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..monitoring.status import task_counts
from ..schemas.tasks import (
    PriorityResponseSchema,
    PrioritySchema,
    StartTaskResponseSchema,
    StartTaskSchema,
    TaskDetailSchema,
    TaskListSchema,
    TaskStateSchema,
    TaskTypeListSchema,
)
from ..security import requires
from ..security.ratelimits import task_changes
from ..tasks.manager import task_manager
from .routing import api_route

blp = Blueprint("tasks", __name__, description="Task management")


@api_route(blp, "/tasks")
@blp.response(200, TaskListSchema)
def get_tasks() -> dict[str, Any]:
    """Queued, running and paused tasks with the scheduler's state."""
    manager = task_manager()
    return {
        "current_tasks": {record.task_id: record for record in manager.current()},
        "completed_tasks": task_counts()["completed"],
        "scheduler_status": manager.scheduler_status(),
    }


@api_route(blp, "/start_task", methods=["POST"])
@blp.arguments(StartTaskSchema)
@blp.response(200, StartTaskResponseSchema)
@requires("write")
@task_changes
def start_task(body: dict[str, Any]) -> dict[str, Any]:
    """Validate and queue a task; it starts at once when a worker is free."""
    return task_manager().submit(body["type"], body["config"], body["priority"])


@api_route(blp, "/cancel_task/<task_id>", methods=["POST"])
@blp.response(200, TaskStateSchema)
@requires("write")
@task_changes
def cancel_task(task_id: str) -> dict[str, Any]:
    """Cancel a task (409 when it already ended)."""
    return task_manager().cancel(task_id)


@api_route(blp, "/v4/tasks/<task_id>")
@blp.response(200, TaskDetailSchema)
def get_task(task_id: str) -> Any:
    """One task's full record, with its per-epoch history for training tasks."""
    return task_manager().detail(task_id)


@api_route(blp, "/v4/tasks/<task_id>/pause", methods=["POST"])
@blp.response(200, TaskStateSchema)
@requires("write")
@task_changes
def pause_task(task_id: str) -> dict[str, Any]:
    """Pause a task at its next batch boundary."""
    return task_manager().pause(task_id)


@api_route(blp, "/v4/tasks/<task_id>/resume", methods=["POST"])
@blp.response(200, TaskStateSchema)
@requires("write")
@task_changes
def resume_task(task_id: str) -> dict[str, Any]:
    """Resume a paused task."""
    return task_manager().resume(task_id)


@api_route(blp, "/v4/tasks/<task_id>/priority", methods=["POST"])
@blp.arguments(PrioritySchema)
@blp.response(200, PriorityResponseSchema)
@requires("write")
@task_changes
def set_task_priority(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Change a task's priority (1-10)."""
    return task_manager().set_priority(task_id, body["priority"])


@api_route(blp, "/v4/task_types")
@blp.response(200, TaskTypeListSchema)
def get_task_types() -> dict[str, Any]:
    """Task types with their documented config keys and defaults."""
    registry = task_manager().registry
    types = [registry.get(name) for name in registry.names()]
    return {"task_types": [
        {"name": t.name, "description": t.description, "ai_workload": t.ai_workload, "training": t.training,
         "config": t.config_fields()} for t in types
    ]}

