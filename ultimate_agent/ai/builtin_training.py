"""How each built-in model is trained when the agent first starts without its weights (seconds each).

Each reuses the task runner that trains that kind of model, so the built-ins are measured the same
way as user-trained ones: accuracy (or R²) on a held-out test split. Imported by the registry on
the starting thread, so the background loader never imports modules concurrently with it.
"""

from __future__ import annotations

from typing import Any

from ..tasks.context import TaskContext
from ..tasks.runners import cnn_training, neural_network_training, transformer_training
from .regression import train_diabetes_regressor


def _run(runner_module: Any, ctx: TaskContext, config: dict[str, Any]) -> None:
    task_type = runner_module.TASK_TYPE
    try:
        task_type.run(ctx, task_type.validate(config))
    finally:
        ctx.clear_checkpoint()


def train_classification(ctx: TaskContext) -> None:
    """MLP on the digits (the neural_network_training defaults: ~0.96 held-out accuracy)."""
    _run(neural_network_training, ctx, {})


def train_cnn(ctx: TaskContext) -> None:
    """CNN on the 8x8 digit images (cnn_training defaults: >= 0.95 held-out accuracy)."""
    _run(cnn_training, ctx, {})


def train_transformer(ctx: TaskContext) -> None:
    """Character transformer on the shipped corpus."""
    _run(transformer_training, ctx, {})


def train_regression(ctx: TaskContext) -> None:
    """Torch regressor on scikit-learn's diabetes data (held-out R²)."""
    train_diabetes_regressor(ctx, ctx.artifact_path("model.pt"))
