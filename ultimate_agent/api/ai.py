"""AI API: capabilities, training status, the model registry and inference."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from ..ai.registry import model_registry
from ..errors import ServiceUnavailable
from ..monitoring.ai_status import ai_capabilities, training_status
from ..schemas.ai import (
    AICapabilitiesSchema,
    InferenceRequestSchema,
    ModelDeletedSchema,
    ModelListSchema,
    ModelSchema,
    TrainingStatusSchema,
)
from ..security import requires
from .routing import api_route

blp = Blueprint("ai", __name__, description="AI models and inference")


@api_route(blp, "/v3/ai/capabilities")
@blp.response(200, AICapabilitiesSchema)
def get_ai_capabilities() -> dict[str, Any]:
    """Models with their held-out metrics, engines and training types."""
    return ai_capabilities()


@api_route(blp, "/training")
@blp.response(200, TrainingStatusSchema)
def get_training() -> dict[str, Any]:
    """Live training counts."""
    return training_status()


@api_route(blp, "/ai/inference", methods=["POST"])
@blp.arguments(InferenceRequestSchema)
@blp.response(200)
@requires("read")
def run_inference(body: dict[str, Any]) -> dict[str, Any]:
    """Predict with a model: one input, or a list of inputs as a batch; results are cached."""
    engine = current_app.extensions.get("inference_engine")
    if engine is None:
        raise ServiceUnavailable("The inference engine is not running")
    return engine.infer(body["model"], body["input"], body["options"])


@api_route(blp, "/v4/ai/models")
@blp.response(200, ModelListSchema)
def get_models() -> dict[str, Any]:
    """Every registered model."""
    return {"models": model_registry().describe_all()}


@api_route(blp, "/v4/ai/models/<name>")
@blp.response(200, ModelSchema)
def get_model(name: str) -> dict[str, Any]:
    """One model."""
    return model_registry().describe(name)


@api_route(blp, "/v4/ai/models/<name>", methods=["DELETE"])
@blp.response(200, ModelDeletedSchema)
@requires("write")
def delete_model(name: str) -> dict[str, Any]:
    """Delete a task-trained model and its weights (built-ins cannot be deleted)."""
    return model_registry().delete(name)
