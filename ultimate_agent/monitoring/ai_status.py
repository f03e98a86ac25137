"""AI status reports: what the AI capability and training endpoints show."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..ai.registry import model_registry
from .status import active_training_sessions, monitor_sample


def _training_types() -> list[str]:
    manager = current_app.extensions.get("task_manager")
    if manager is None:
        return []
    return [name for name in manager.task_types() if manager.registry.get(name).training]


def ai_capabilities() -> dict[str, Any]:
    """`/api/v3/ai/capabilities`: models, engines and training types."""
    registry = model_registry()
    models = registry.describe_all()
    loaded = [m for m in models if m["status"] == "loaded"]
    return {
        "models_loaded": len(loaded),
        "gpu_available": monitor_sample().snapshot.gpu.available,
        "training_engine_active": current_app.extensions.get("task_manager") is not None,
        "inference_engine_active": bool(loaded),
        "active_training_sessions": active_training_sessions(),
        "model_types": sorted({m["type"] for m in models if m["type"] != "unknown"}),
        "total_model_size": sum(m.get("parameters") or 0 for m in loaded),
        "available_models": models,
        "training_capabilities": _training_types(),
    }


def training_status() -> dict[str, Any]:
    """`/api/training`: live counts of what is training."""
    registry = model_registry()
    training = registry.training_count() + active_training_sessions()
    return {
        "models_training": training,
        "total_models": len(registry.names()),
        "training_active": training > 0,
        "gpu_available": monitor_sample().snapshot.gpu.available,
        "training_capabilities": _training_types(),
        "advanced_training_enabled": True,
    }
