"""Agent status reports: what the status, system and health endpoints (and live events) show."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from flask import current_app
from sqlalchemy import func

from .. import __version__
from ..extensions import db
from ..models import Earning, TaskRecord
from ..models.base import isoformat, utcnow
from .sampler import HealthSample

STATE_NAMES = ("queued", "running", "paused", "completed", "failed", "cancelled", "interrupted")


def _service(name: str) -> Any:
    return current_app.extensions.get(name)


def uptime_seconds() -> float:
    """Seconds since this agent process started."""
    return time.time() - current_app.extensions["agent_started_at"]


def task_counts() -> dict[str, int]:
    """Tasks per state, from the records (the task manager keeps them current)."""
    return current_app.extensions["status_cache"].get("task_counts", _count_tasks)


def _count_tasks() -> dict[str, int]:
    rows = db.session.execute(db.select(TaskRecord.status, func.count()).group_by(TaskRecord.status)).all()
    counts = dict.fromkeys(STATE_NAMES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def total_earnings() -> float:
    """Sum of confirmed rewards in ETH (a claim still pending is not yet earned)."""
    return current_app.extensions["status_cache"].get("total_earnings", _sum_earnings)


def _sum_earnings() -> float:
    total = db.session.scalar(db.select(func.coalesce(func.sum(Earning.amount), 0.0))
                              .where(Earning.currency == "ETH", Earning.status == "confirmed"))
    return round(float(total or 0.0), 8)


def models_loaded() -> int:
    """Models the AI registry has loaded (0 until it exists)."""
    registry = _service("model_registry")
    return registry.loaded_count() if registry is not None else 0


def monitor_sample() -> HealthSample:
    """The monitor's current sample."""
    return current_app.extensions["system_monitor"].current()


def network_state() -> dict[str, Any]:
    """Registration with the network node, from its client when it runs."""
    client = _service("network_client")
    if client is not None:
        return client.status()
    node_url = current_app.config["NODE_URL"]
    return {
        "node_url": node_url,
        "registered": False,
        "network_status": "disconnected" if node_url else "standalone",
        "agent_id": current_app.config["AGENT_ID"],
        "node_id": None,
        "connection_quality": "unknown" if node_url else "none",
        "last_heartbeat": None,
    }


def _current_tasks(counts: dict[str, int]) -> int:
    return counts["running"] + counts["queued"] + counts["paused"]


def stats() -> dict[str, Any]:
    """`/api/stats`: the basic agent status."""
    counts = task_counts()
    return {
        "agent_id": current_app.config["AGENT_ID"],
        "running": True,
        "registered": bool(network_state()["registered"]),
        "current_tasks": _current_tasks(counts),
        "tasks_completed": counts["completed"],
        "tasks_failed": counts["failed"],
        "total_earnings": total_earnings(),
        "uptime_hours": round(uptime_seconds() / 3600, 4),
        "ai_models_loaded": models_loaded(),
        "modular_architecture": True,
    }


def enhanced_stats() -> dict[str, Any]:
    """`/api/v3/stats/enhanced`: status with AI, chain and dashboard state."""
    counts = task_counts()
    chain = _service("chain")
    chain_status = chain.summary() if chain is not None else {
        "wallet_initialized": False,
        "smart_contracts_enabled": False,
        "connected_networks": 0,
        "transaction_pool_size": 0,
    }
    connections = current_app.extensions["socket_connections"]
    return {
        "agent_id": current_app.config["AGENT_ID"],
        "running": True,
        "registered": bool(network_state()["registered"]),
        "current_tasks": _current_tasks(counts),
        "stats": {
            "tasks_completed": counts["completed"],
            "tasks_failed": counts["failed"],
            "total_earnings": total_earnings(),
            "start_time": int(current_app.extensions["agent_started_at"]),
        },
        "ai_status": {
            "models_loaded": models_loaded(),
            "gpu_available": monitor_sample().snapshot.gpu.available,
            "training_engine_active": _service("task_manager") is not None,
            "active_training_sessions": active_training_sessions(),
        },
        "blockchain_status": chain_status,
        "modular_architecture": True,
        "advanced_features": True,
        "dashboard_connected": connections.count() > 0,
    }


def active_training_sessions() -> int:
    """Running tasks that train a model."""
    manager = _service("task_manager")
    return manager.active_training_count() if manager is not None else 0


def task_types() -> list[str]:
    """Task types this agent can run (from the task registry once it exists)."""
    manager = _service("task_manager")
    return manager.task_types() if manager is not None else []


def capabilities() -> dict[str, Any]:
    """`/api/capabilities`: what this agent offers to the network."""
    agent_id = current_app.config["AGENT_ID"]
    registry = _service("model_registry")
    chain = _service("chain")
    areas = ["monitoring"]
    if _service("task_manager") is not None:
        areas.append("ai")
    if chain is not None:
        areas.append("blockchain")
    return {
        "agent_id": agent_id,
        "name": current_app.config["AGENT_NAME"] or f"ultimate-agent-{agent_id.removeprefix('ultimate-')}",
        "host": socket.gethostname(),
        "version": __version__,
        "agent_type": "ultimate",
        "capabilities": areas,
        "ai_models": registry.names() if registry is not None else [],
        "gpu_available": monitor_sample().snapshot.gpu.available,
        "blockchain_enabled": chain is not None,
        "enhanced_features": True,
        "task_types": task_types(),
        "dashboard_enabled": "dashboard" in current_app.blueprints,
        "websocket_enabled": True,
        "api_version": "v4",
        "modular_architecture": True,
    }


def activity() -> dict[str, Any]:
    """`/api/activity`: how busy the agent is."""
    counts = task_counts()
    running = counts["running"]
    capacity = current_app.config["MAX_CONCURRENT_TASKS"]
    cpu = monitor_sample().snapshot.cpu_percent
    if running == 0 and cpu < 20:
        level = "idle"
    elif running >= capacity or cpu >= 75:
        level = "high"
    elif running * 2 >= capacity or cpu >= 40:
        level = "medium"
    else:
        level = "low"
    return {
        "tasks_running": running,
        "tasks_queued": counts["queued"],
        "tasks_completed": counts["completed"],
        "tasks_failed": counts["failed"],
        "activity_level": level,
        "uptime_hours": round(uptime_seconds() / 3600, 4),
    }


def system_info() -> dict[str, Any]:
    """`/api/system`: machine load and platform."""
    from .system import platform_info

    snap = monitor_sample().snapshot
    info = platform_info()
    return {
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "memory_mb": snap.memory_used_mb,
        "memory_total_mb": snap.memory_total_mb,
        "process_memory_mb": snap.process_memory_mb,
        "cpu_count": os.cpu_count() or 1,
        "status": "online",
        "platform": info["platform"],
        "python_version": info["python_version"],
        "architecture": info["architecture"],
    }


def performance_metrics() -> dict[str, Any]:
    """`/api/performance/metrics`: system, process and GPU load with the health score."""
    sample = monitor_sample()
    snap = sample.snapshot
    gpu = snap.gpu
    return {
        "timestamp": isoformat(snap.timestamp),
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "gpu_percent": gpu.utilization_percent,
        "disk_usage_percent": snap.disk_percent,
        "network_io": {"bytes_sent": snap.bytes_sent, "bytes_recv": snap.bytes_recv},
        "process": {
            "cpu_percent": snap.process_cpu_percent,
            "memory_mb": snap.process_memory_mb,
            "threads": snap.process_threads,
            "open_files": snap.process_open_files,
        },
        "gpu": {
            "available": gpu.available,
            "name": gpu.name,
            "count": gpu.count,
            # The seed gives whole MB and whole degrees here (nvidia-smi's units).
            "memory_used_mb": round(gpu.memory_used_mb),
            "memory_total_mb": round(gpu.memory_total_mb),
            "temperature": round(gpu.temperature) if gpu.temperature is not None else None,
        },
        "tasks_running": task_counts()["running"],
        "health_score": sample.score,
    }


def health_report() -> dict[str, Any]:
    """`/api/health`: health score, component scores and active alerts."""
    sample = monitor_sample()
    return {
        "status": sample.status,
        "health_score": sample.score,
        "components": sample.components,
        "alerts": sample.alerts,
        "uptime_seconds": int(uptime_seconds()),
        "last_updated": isoformat(sample.snapshot.timestamp),
    }


def real_time_data(sample: HealthSample | None = None) -> dict[str, Any]:
    """Payload of the `real_time_data` event."""
    sample = sample or monitor_sample()
    snap = sample.snapshot
    return {
        "timestamp": isoformat(snap.timestamp),
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "gpu_percent": snap.gpu.utilization_percent,
        "gpu_available": snap.gpu.available,
        "disk_usage_percent": snap.disk_percent,
        "network_io": {"bytes_sent": snap.bytes_sent, "bytes_recv": snap.bytes_recv},
        "tasks_running": task_counts()["running"],
        "health_score": sample.score,
    }


def now_iso() -> str:
    """The current UTC time in the API's format."""
    return isoformat(utcnow())
