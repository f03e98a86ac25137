"""cnn_training: a small convolutional network on the 8x8 handwritten digit images."""

from __future__ import annotations

from typing import Any

import torch
from marshmallow import fields, validate

from ...ai.datasets import DIGITS_CLASSES, digits_split
from ...ai.networks import DigitCNN
from ...ai.training import finish_classifier, fit
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType
from .common import ServableModelConfig


class Config(ServableModelConfig):
    """Configuration of a CNN training run."""

    epochs = fields.Integer(load_default=20, validate=validate.Range(1, 1000),
                            metadata={"description": "Passes over the training split"})
    batch_size = fields.Integer(load_default=32, validate=validate.Range(1, 2048),
                                metadata={"description": "Images per optimisation step"})
    learning_rate = fields.Float(load_default=0.002, validate=validate.Range(1e-6, 1.0),
                                 metadata={"description": "Adam learning rate"})
    channels = fields.Integer(load_default=16, validate=validate.Range(1, 128),
                              metadata={"description": "Filters in the first convolution (the second has twice)"})
    hidden_dim = fields.Integer(load_default=64, validate=validate.Range(1, 1024),
                                metadata={"description": "Units in the fully connected layer"})
    dataset_size = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(100, 1797),
                                  metadata={"description": "Digit images to use (default: all 1797)"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed for data split, initialisation and shuffling"})


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Train the CNN with held-out validation, test it, save it."""
    seed = config["seed"]
    torch.manual_seed(seed)
    device = torch.device(ctx.device)
    ctx.progress(0.0, {"phase": "loading data"})
    split = digits_split(seed, config["dataset_size"], images=True)
    data = split.tensors(device)
    ctx.check()

    params = {"channels": config["channels"], "hidden_dim": config["hidden_dim"], "num_classes": DIGITS_CLASSES}
    model = DigitCNN(**params).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    ctx.progress(1.0, {"phase": "training", "dataset": "digits", **split.sizes()})
    fitted = fit(ctx, model, optimizer, data["train"], data["validation"], epochs=config["epochs"],
                 batch_size=config["batch_size"], seed=seed, fingerprint=dict(config))
    return finish_classifier(ctx, model, params, "cnn", split, data["test"], fitted, config["epochs"])


TASK_TYPE = TaskType(
    name="cnn_training",
    run=run,
    schema=Config,
    description="Train a small CNN on the 8x8 scikit-learn digit images with held-out validation and test "
                "splits; saves the model",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["epochs"]),
    default_estimate_seconds=15.0,
)
