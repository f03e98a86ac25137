"""Resource limits: CPU share (torch threads, concurrency, affinity), memory guard and GPU use."""

from __future__ import annotations

import logging
import math
import os
import threading
from typing import Any

import psutil
from flask import Flask
from marshmallow import Schema, fields, validate

from ..errors import APIError
from .registry import Command, CommandFailed
from .settings import persist

log = logging.getLogger(__name__)


def total_cores() -> int:
    """CPUs the agent may use when unlimited: its affinity at start-up, else the machine's count."""
    return len(_original_affinity()) or os.cpu_count() or 1


_ORIGINAL_AFFINITY: list[int] | None = None


def _original_affinity() -> list[int]:
    global _ORIGINAL_AFFINITY
    if _ORIGINAL_AFFINITY is None:
        process = psutil.Process()
        _ORIGINAL_AFFINITY = process.cpu_affinity() if hasattr(process, "cpu_affinity") else []
    return _ORIGINAL_AFFINITY


def allowed_cores(percent: int) -> int:
    """Whole cores a CPU limit of `percent` leaves (at least one)."""
    return max(1, math.floor(total_cores() * percent / 100))


def apply_cpu_limit(app: Flask, percent: int) -> dict[str, Any]:
    """Fit torch threads, task concurrency and (where the OS allows) CPU affinity into `percent` of the cores."""
    cores = allowed_cores(percent)
    manager = app.extensions.get("task_manager")
    if manager is not None:
        manager.cpu_cores = cores
        manager.torch_threads = None  # a calibration made for more cores no longer fits
        configured = int(app.config["MAX_CONCURRENT_TASKS"])
        # Unlimited: the configured concurrency as at start-up; limited: no more tasks than cores.
        manager.set_concurrency(configured if percent >= 100 else min(configured, cores))
    affinity = None
    original = _original_affinity()
    if original:
        # The lowest-numbered CPUs: the whole process (server threads included) stays on them.
        affinity = original if percent >= 100 else original[:cores]
        try:
            psutil.Process().cpu_affinity(affinity)
        except (psutil.Error, OSError) as exc:
            log.warning("CPU affinity not changed: %s", exc)
            affinity = None
    return {"cores_allowed": cores, "cpu_affinity": affinity}


class MemoryGuard:
    """While the agent's memory is over the limit, refuses new tasks and holds running ones paused."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.process = psutil.Process()
        self.paused: list[str] = []  # tasks this guard paused (only these it resumes)
        self.over = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def limit_mb(self) -> int:
        """The configured limit (0: none)."""
        return int(self.app.config["MEMORY_LIMIT_MB"])

    def rss_mb(self) -> float:
        """The agent process's resident memory in MiB."""
        return self.process.memory_info().rss / 2**20

    def admission(self) -> str | None:
        """Why a new task must wait, or None (the task manager asks before queueing)."""
        limit = self.limit_mb
        if limit and self.rss_mb() > limit:
            return f"agent memory {self.rss_mb():.0f} MB is over the {limit} MB limit"
        return None

    def check(self) -> dict[str, Any]:
        """Compare memory with the limit now: pause running tasks when over, resume them when back under."""
        with self._lock:
            limit, rss = self.limit_mb, self.rss_mb()
            manager = self.app.extensions.get("task_manager")
            over = bool(limit) and rss > limit
            if over and manager is not None:
                for task_id in manager.running_task_ids():
                    if task_id not in self.paused and self._act(manager.pause, task_id):
                        self.paused.append(task_id)
                        log.warning("Task %s paused: agent memory %.0f MB over the %d MB limit", task_id, rss, limit)
            elif not over and self.paused:
                for task_id in self.paused:
                    if manager is not None:
                        self._act(manager.resume, task_id)
                log.info("Memory back under the limit; resumed %s", ", ".join(self.paused))
                self.paused = []
            self.over = over
            return {"memory_limit_mb": limit, "agent_memory_mb": round(rss, 1), "over_limit": over,
                    "paused_by_limit": list(self.paused)}

    def _act(self, operation, task_id: str) -> bool:
        with self.app.app_context():
            try:
                operation(task_id)
                return True
            except APIError:  # ended or resumed by someone else meanwhile
                return False

    def _run(self) -> None:
        while not self._stop.wait(float(self.app.config["MEMORY_GUARD_INTERVAL"])):
            try:
                self.check()
            except Exception:
                log.exception("Memory guard check failed")
            if not self.limit_mb and not self.paused:
                break

    def start(self) -> None:
        """Watch memory in the background (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="memory-guard", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def memory_guard(app: Flask) -> MemoryGuard:
    """The app's memory guard, created and hooked into the task manager on first use."""
    guard = app.extensions.get("memory_guard")
    if guard is None:
        guard = MemoryGuard(app)
        app.extensions["memory_guard"] = guard
        manager = app.extensions.get("task_manager")
        if manager is not None:
            manager.admission_checks.append(guard.admission)
    return guard


def apply_memory_limit(app: Flask, mb: int) -> dict[str, Any]:
    """Set the memory limit (0 removes it), act on it at once and keep watching while it is set."""
    app.config["MEMORY_LIMIT_MB"] = mb
    guard = memory_guard(app)
    state = guard.check()
    if mb:
        guard.start()
    return state


def limits_state(app: Flask) -> dict[str, Any]:
    """The limits in force, as get_status shows them."""
    manager = app.extensions.get("task_manager")
    guard = app.extensions.get("memory_guard")
    process = psutil.Process()
    return {
        "cpu_limit_percent": app.config["CPU_LIMIT_PERCENT"],
        "cores_allowed": allowed_cores(app.config["CPU_LIMIT_PERCENT"]),
        "cpu_affinity": process.cpu_affinity() if hasattr(process, "cpu_affinity") else None,
        "max_concurrent_tasks": manager.max_concurrent if manager is not None else None,
        "torch_threads_per_task": manager.threads_per_task if manager is not None else None,
        "memory_limit_mb": app.config["MEMORY_LIMIT_MB"],
        "memory_over_limit": bool(guard and guard.over),
        "paused_by_memory_limit": list(guard.paused) if guard else [],
        "gpu_enabled": app.config["GPU_ENABLED"],
    }


class CpuParams(Schema):
    """set_cpu_limit parameters."""

    percent = fields.Integer(required=True, validate=validate.Range(min=1, max=100))


class MemoryParams(Schema):
    """set_memory_limit parameters."""

    mb = fields.Integer(required=True, validate=validate.Range(min=0, max=16 * 1024 * 1024),
                        metadata={"description": "Agent memory limit in MiB; 0 removes the limit"})


class GpuParams(Schema):
    """enable_gpu parameters."""

    enabled = fields.Boolean(required=True)


def set_cpu_limit(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Limit the agent to a share of the CPU; persisted so it holds after a restart."""
    percent = params["percent"]
    app.config["CPU_LIMIT_PERCENT"] = percent
    applied = apply_cpu_limit(app, percent)
    persist(app, {"CPU_LIMIT_PERCENT": percent})
    return {"cpu_limit_percent": percent, **applied, **_scheduler(app)}


def _scheduler(app: Flask) -> dict[str, Any]:
    manager = app.extensions.get("task_manager")
    if manager is None:
        return {"max_concurrent_tasks": None, "torch_threads_per_task": None}
    return {"max_concurrent_tasks": manager.max_concurrent, "torch_threads_per_task": manager.threads_per_task}


def set_memory_limit(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Refuse new tasks and pause running ones while the agent's memory is over `mb`; persisted."""
    state = apply_memory_limit(app, params["mb"])
    persist(app, {"MEMORY_LIMIT_MB": params["mb"]})
    return state


def enable_gpu(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Turn CUDA on or off for tasks started from now on; persisted."""
    import torch

    enabled = params["enabled"]
    available = torch.cuda.is_available()
    if enabled and not available:
        raise CommandFailed("No CUDA device is available to torch", {"cuda_available": False})
    app.config["GPU_ENABLED"] = enabled
    persist(app, {"GPU_ENABLED": enabled})
    from ..ai.networks import preferred_device

    return {"gpu_enabled": enabled, "cuda_available": available,
            "device_for_new_tasks": preferred_device(enabled)}


COMMANDS = (
    Command("set_cpu_limit", set_cpu_limit, CpuParams,
            description="Limit CPU use: torch threads, task concurrency and CPU affinity"),
    Command("set_memory_limit", set_memory_limit, MemoryParams,
            description="Refuse new tasks and pause running ones while agent memory is over the limit"),
    Command("enable_gpu", enable_gpu, GpuParams, description="Use CUDA for new tasks, or stop using it"),
)
