"""What the agent tells the network node: the registration and heartbeat bodies (call in an app context)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..monitoring import status

# The body's shape: bumped when fields change meaning, so the node can tell agents apart.
REGISTRATION_PROTOCOL_VERSION = "4.0"


def registration_payload(agent_id: str) -> dict[str, Any]:
    """`POST /api/{ver}/agents/register` body: identity, capabilities and the machine."""
    caps = status.capabilities()
    system = status.system_info()
    gpu = status.monitor_sample().snapshot.gpu
    return {
        "agent_id": agent_id,
        "name": caps["name"],
        "host": caps["host"],
        "version": caps["version"],
        "agent_type": caps["agent_type"],
        "capabilities": caps,
        "system_info": {
            "cpu_count": system["cpu_count"],
            "memory_total_mb": system["memory_total_mb"],
            "memory_percent": system["memory_percent"],
            "platform": system["platform"],
            "python_version": system["python_version"],
            "architecture": system["architecture"],
            "gpu_available": gpu.available,
            "gpu_name": gpu.name,
            "gpu_count": gpu.count,
            "gpu_memory_total_mb": round(gpu.memory_total_mb),
        },
        "dashboard_port": current_app.config["PORT"],
        "registration_protocol_version": REGISTRATION_PROTOCOL_VERSION,
    }


def heartbeat_payload(agent_id: str, state: str = "online") -> dict[str, Any]:
    """`POST /api/{ver}/agents/heartbeat` body: liveness, load and task counts."""
    counts = status.task_counts()
    snap = status.monitor_sample().snapshot
    running = counts["running"]
    load = {
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "disk_percent": snap.disk_percent,
        "gpu_percent": snap.gpu.utilization_percent,
        "tasks_running": running,
    }
    return {
        "agent_id": agent_id,
        "status": state,
        "uptime": round(status.uptime_seconds(), 1),
        "current_tasks": counts["running"] + counts["queued"] + counts["paused"],
        "completed_tasks": counts["completed"],
        # Both flat and nested: older node versions read the top-level fields.
        "cpu_percent": snap.cpu_percent,
        "memory_percent": snap.memory_percent,
        "tasks_running": running,
        "system_load": load,
    }
