"""The built-in task types, and the blockchain ones added when the chain service runs."""

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
CHAIN_RUNNERS = ("blockchain_transaction", "smart_contract_execution")


def builtin_registry() -> TaskTypeRegistry:
    """A registry holding every built-in runner (imports torch and friends: call when the agent starts)."""
    registry = TaskTypeRegistry()
    for name in BUILTIN_RUNNERS:
        module = importlib.import_module(f"{__package__}.runners.{name}")
        registry.register(module.TASK_TYPE)
    return registry


def register_chain_runners(registry: TaskTypeRegistry) -> None:
    """Add the blockchain task types (only when the agent runs its chain service)."""
    for name in CHAIN_RUNNERS:
        registry.register(importlib.import_module(f"{__package__}.runners.{name}").TASK_TYPE)
