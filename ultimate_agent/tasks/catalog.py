"""The built-in task types (the chain service registers its own when it starts)."""

from __future__ import annotations

import importlib

from .registry import TaskTypeRegistry

BUILTIN_RUNNERS = (
    "neural_network_training",
    "cnn_training",
    "transformer_training",
    "reinforcement_learning",
    "federated_learning",
    "hyperparameter_optimization",
    "gradient_computation",
    "model_inference_batch",
    "data_preprocessing",
    "sentiment_analysis",
    "data_processing",
)


def builtin_registry() -> TaskTypeRegistry:
    """A registry holding every built-in runner (imports torch and friends: call when the agent starts)."""
    registry = TaskTypeRegistry()
    for name in BUILTIN_RUNNERS:
        module = importlib.import_module(f"{__package__}.runners.{name}")
        registry.register(module.TASK_TYPE)
    return registry
