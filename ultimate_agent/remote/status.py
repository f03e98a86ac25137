"""get_status and get_detailed_status: live state of tasks, resources, models, chain, limits and config."""

from __future__ import annotations

import os
import sys
from typing import Any

import psutil
from flask import Flask

from .. import __version__
from ..monitoring import status as monitoring
from ..monitoring.system import platform_info
from .limits import limits_state
from .registry import Command
from .settings import public_config


def _tasks(app: Flask, detailed: bool) -> dict[str, Any]:
    manager = app.extensions.get("task_manager")
    current = []
    if manager is not None:
        for record in manager.current():
            item = {"task_id": record.task_id, "task_type": record.task_type, "status": record.status,
                    "progress": record.progress, "priority": record.priority}
            if detailed:
                item.update({"config": record.config, "details": record.details, "restarts": record.restarts,
                             "estimated_duration": record.estimated_duration})
            current.append(item)
    return {
        "counts": monitoring.task_counts(),
        "scheduler": manager.scheduler_status() if manager is not None else None,
        "current": current,
    }


def _resources(detailed: bool) -> dict[str, Any]:
    sample = monitoring.monitor_sample()
    snap = sample.snapshot
    resources = {
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "disk_percent": snap.disk_percent,
        "process_memory_mb": snap.process_memory_mb,
        "process_cpu_percent": snap.process_cpu_percent,
        "gpu": snap.gpu.as_dict(),
        "health_score": sample.score,
        "health_status": sample.status,
    }
    if detailed:
        resources.update({"components": sample.components, "alerts": sample.alerts,
                          "memory_used_mb": snap.memory_used_mb, "memory_total_mb": snap.memory_total_mb,
                          "process_threads": snap.process_threads, "process_open_files": snap.process_open_files})
    return resources


def _models(app: Flask, detailed: bool) -> dict[str, Any]:
    registry = app.extensions.get("model_registry")
    if registry is None:
        return {"loaded": 0, "total": 0, "names": []}
    info: dict[str, Any] = {"loaded": registry.loaded_count(), "total": len(registry.names()),
                            "names": registry.names()}
    if detailed:
        info["models"] = registry.describe_all()
    return info


def _chain(app: Flask) -> dict[str, Any]:
    chain = app.extensions.get("chain")
    if chain is None:
        return {"configured": False}
    summary = chain.summary() if hasattr(chain, "summary") else {}
    return {"configured": True, **summary}


def status_report(app: Flask, detailed: bool) -> dict[str, Any]:
    """The agent's live state; the detailed form adds per-task, per-model, process and platform facts."""
    report: dict[str, Any] = {
        "agent_id": app.config["AGENT_ID"],
        "version": __version__,
        "pid": os.getpid(),
        "uptime_seconds": round(monitoring.uptime_seconds(), 3),
        "accepting_tasks": bool(app.extensions.get("task_manager") and app.extensions["task_manager"].accepting),
        "tasks": _tasks(app, detailed),
        "resources": _resources(detailed),
        "models": _models(app, detailed),
        "chain": _chain(app),
        "network": monitoring.network_state(),
        "limits": limits_state(app),
        "config": public_config(app),
    }
    lifecycle = app.extensions.get("remote_lifecycle")
    report["scheduled"] = lifecycle.pending if lifecycle is not None else None
    if detailed:
        import torch

        process = psutil.Process()
        report["platform"] = platform_info()
        report["process"] = {
            "pid": process.pid,
            "threads": process.num_threads(),
            "rss_mb": round(process.memory_info().rss / 2**20, 1),
            "cpu_affinity": process.cpu_affinity() if hasattr(process, "cpu_affinity") else None,
            "executable": sys.executable,
        }
        report["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads(),
                           "cuda_available": torch.cuda.is_available(),
                           "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0}
        report["socket_connections"] = app.extensions["socket_connections"].count()
    return report


def get_status(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """Live state of tasks, resources, models, chain, limits and config (no secrets)."""
    return status_report(app, detailed=False)


def get_detailed_status(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """get_status plus per-task and per-model detail, process, torch and platform facts."""
    return status_report(app, detailed=True)


COMMANDS = (
    Command("get_status", get_status, description="Live state of tasks, resources, models, chain and config"),
    Command("get_detailed_status", get_detailed_status,
            description="Comprehensive status: per-task and per-model detail, process, torch and platform"),
)
