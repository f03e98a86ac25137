"""Task assignments from the network node: accept or refuse, run through the task manager, report the end.

Acceptance rule (checked in this order, the first failing check is the refusal's reason):
1. the assignment names a `task_id` (the node's id, at most 128 characters);
2. the same node task id was never seen before; a duplicate is not run again (the check reads
   `TaskRecord.node_task_id`, so it holds across restarts) and is answered as accepted, with the
   report re-sent when the first delivery already finished;
3. the task type is one this agent runs and its config is valid for it;
4. the task manager is accepting work and has a free worker slot: queued, running and paused tasks
   together are fewer than MAX_CONCURRENT_TASKS, so a node task starts at once instead of waiting
   behind local work (the node can give it to another agent meanwhile);
5. system memory use is below NODE_ASSIGNMENT_MAX_MEMORY_PERCENT, and the assignment's own
   `requirements` fit: `gpu`/`gpu_required` needs a usable GPU, `memory_mb`/`min_memory_mb`/`memory_gb`
   needs that much free memory, `cpu_cores`/`min_cpu_cores` needs that many cores.
The offered `reward` is shown to the dashboard only; rewards are paid by the chain service.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from ..errors import APIError
from ..extensions import db
from ..models import ACTIVE_STATES, TaskRecord
from ..monitoring.status import monitor_sample
from ..realtime.bus import emit_event

log = logging.getLogger(__name__)

PRIORITY_NAMES = {"lowest": 1, "low": 3, "normal": 5, "medium": 5, "high": 8, "urgent": 10, "critical": 10}
MAX_NODE_TASK_ID = 128

Send = Callable[[str, dict[str, Any]], None]


def local_priority(value: Any) -> int:
    """The node's priority (a number or a name) as the task manager's 1-10."""
    if isinstance(value, str):
        if value.strip().lower() in PRIORITY_NAMES:
            return PRIORITY_NAMES[value.strip().lower()]
        try:
            value = float(value)
        except ValueError:
            return 5
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(1, min(10, round(value)))
    return 5


def requirement_refusal(requirements: dict[str, Any], gpu_usable: bool, free_memory_mb: float) -> str | None:
    """Why the assignment's own requirements do not fit this machine; None when they do."""
    if (requirements.get("gpu") or requirements.get("gpu_required")) and not gpu_usable:
        return "requires a GPU; none is available"
    memory_mb = requirements.get("memory_mb", requirements.get("min_memory_mb"))
    if memory_mb is None and requirements.get("memory_gb") is not None:
        memory_mb = _number(requirements["memory_gb"]) * 1024
    if memory_mb is not None and _number(memory_mb) > free_memory_mb:
        return f"requires {_number(memory_mb):.0f} MB of memory; {free_memory_mb:.0f} MB free"
    cores = requirements.get("cpu_cores", requirements.get("min_cpu_cores"))
    if cores is not None and _number(cores) > (os.cpu_count() or 1):
        return f"requires {_number(cores):.0f} CPU cores; {os.cpu_count() or 1} present"
    return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")  # an unreadable requirement cannot be shown to fit


class AssignmentHandler:
    """Decides on `central_task_assignment`s and turns finished node tasks into `central_task_completed`."""

    def __init__(self, app: Flask, agent_id: Callable[[], str], send: Send) -> None:
        self.app = app
        self._agent_id = agent_id
        self._send = send
        # One decision at a time: the duplicate check and the free-slot check must see each other's submit.
        self._lock = threading.Lock()

    def handle(self, data: Any) -> dict[str, Any]:
        """Decide on one assignment and start it when accepted; returns the `task_assignment_response`."""
        node_task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(node_task_id, str) or not node_task_id or len(node_task_id) > MAX_NODE_TASK_ID:
            return self._refuse(node_task_id if isinstance(node_task_id, str) else None,
                                "missing or invalid task_id")
        with self.app.app_context(), self._lock:
            try:
                return self._decide(node_task_id, data)
            except Exception:
                log.exception("Assignment %s could not be handled", node_task_id)
                return self._refuse(node_task_id, "agent error while accepting the task")
            finally:
                db.session.remove()

    def _decide(self, node_task_id: str, data: dict[str, Any]) -> dict[str, Any]:
        existing = db.session.scalar(
            db.select(TaskRecord).where(TaskRecord.node_task_id == node_task_id).limit(1))
        if existing is not None:
            return self._duplicate(node_task_id, existing)
        manager = self.app.extensions.get("task_manager")
        if manager is None:
            return self._refuse(node_task_id, "this agent runs no task engine")
        task_type = data.get("task_type")
        if not isinstance(task_type, str) or task_type not in manager.registry:
            return self._refuse(node_task_id, f"unsupported task type: {task_type}")
        config = data.get("config") or {}
        if not isinstance(config, dict):
            return self._refuse(node_task_id, "invalid config: must be an object")
        try:
            manager.registry.get(task_type).validate(config)
        except APIError as exc:
            return self._refuse(node_task_id, f"invalid config: {exc.details or exc.message}")
        busy = self._resource_refusal(manager, data.get("requirements"))
        if busy:
            return self._refuse(node_task_id, busy)
        priority = local_priority(data.get("priority"))
        try:
            started = manager.submit(task_type, config, priority=priority, node_task_id=node_task_id)
        except APIError as exc:
            return self._refuse(node_task_id, exc.message)
        log.info("Accepted node task %s (%s) as %s", node_task_id, task_type, started["task_id"])
        emit_event(self.app, "task_assignment", {
            "task_id": started["task_id"],
            "node_task_id": node_task_id,
            "task_type": task_type,
            "priority": priority,
            "status": started["status"],
            "estimated_duration": started["estimated_duration"],
            "node_estimated_duration": data.get("estimated_duration"),
            "reward": data.get("reward"),
            "source": "network_node",
        })
        return {"success": True, "task_id": node_task_id, "reason": "accepted",
                "agent_id": self._agent_id(), "local_task_id": started["task_id"]}

    def _resource_refusal(self, manager: Any, requirements: Any) -> str | None:
        if not manager.accepting:
            return "agent is not accepting tasks"
        scheduler = manager.scheduler_status()
        active = scheduler["current_tasks"] + scheduler["queued_tasks"]
        if active >= manager.max_concurrent:
            return f"busy: {active} tasks for {manager.max_concurrent} worker slots"
        snap = monitor_sample().snapshot
        ceiling = float(self.app.config["NODE_ASSIGNMENT_MAX_MEMORY_PERCENT"])
        if snap.memory_percent >= ceiling:
            return f"memory use {snap.memory_percent:.0f}% is at or above {ceiling:.0f}%"
        if requirements is None:
            return None
        if not isinstance(requirements, dict):
            return "invalid requirements: must be an object"
        gpu_usable = snap.gpu.available and bool(self.app.config["GPU_ENABLED"])
        return requirement_refusal(requirements, gpu_usable, snap.memory_total_mb - snap.memory_used_mb)

    def _duplicate(self, node_task_id: str, record: TaskRecord) -> dict[str, Any]:
        log.info("Node task %s delivered again; it already is %s (%s)", node_task_id, record.task_id,
                 record.status)
        if record.status not in (*ACTIVE_STATES, "interrupted"):
            self._send("central_task_completed", self.report(record))  # the node may have missed it
        return {"success": True, "task_id": node_task_id, "duplicate": True, "agent_id": self._agent_id(),
                "local_task_id": record.task_id,
                "reason": f"duplicate: already accepted as {record.task_id} ({record.status})"}

    def _refuse(self, node_task_id: str | None, reason: str) -> dict[str, Any]:
        log.info("Refused node task %s: %s", node_task_id, reason)
        return {"success": False, "task_id": node_task_id, "reason": reason, "agent_id": self._agent_id()}

    def report(self, record: TaskRecord) -> dict[str, Any]:
        """The `central_task_completed` body for a finished node task."""
        success = bool(record.success)
        result = record.result if success else {"error": record.error, "status": record.status}
        return {
            "task_id": record.node_task_id,
            "agent_id": self._agent_id(),
            "success": success,
            "result": result,
            "status": record.status,
            "local_task_id": record.task_id,
            "task_type": record.task_type,
            "duration": record.duration,
            "error": record.error,
        }

    def on_task_end(self, record: TaskRecord) -> None:
        """Task manager end hook: queue the report of a node task (runs on the worker thread)."""
        if record.node_task_id:
            self._send("central_task_completed", self.report(record))
