"""neural_network_training: an MLP classifier on handwritten digits (or synthetic data of another shape)."""

from __future__ import annotations

from typing import Any

import torch
from marshmallow import ValidationError, fields, validate, validates_schema

from ...ai.datasets import (
    DIGITS_CLASSES,
    DIGITS_FEATURES,
    DIGITS_SAMPLES,
    SYNTHETIC_DEFAULT_SAMPLES,
    digits_split,
    informative_features,
    synthetic_split,
)
from ...ai.networks import MLP
from ...ai.training import finish_classifier, fit
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType
from .common import ServableModelConfig

MIN_SAMPLES_PER_CLASS = 10


class Config(ServableModelConfig):
    """Configuration of an MLP training run."""

    epochs = fields.Integer(load_default=20, validate=validate.Range(1, 1000),
                            metadata={"description": "Passes over the training split"})
    batch_size = fields.Integer(load_default=32, validate=validate.Range(1, 4096),
                                metadata={"description": "Samples per optimisation step"})
    learning_rate = fields.Float(load_default=0.003, validate=validate.Range(1e-6, 1.0),
                                 metadata={"description": "Adam learning rate"})
    dataset_size = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(100, 20000),
                                  metadata={"description": "Samples to use (default: all 1797 digits, "
                                                           "or 4000 synthetic samples)"})
    input_dim = fields.Integer(load_default=DIGITS_FEATURES, validate=validate.Range(2, 1024),
                               metadata={"description": "Input features; 64 with output_dim 10 uses the "
                                                        "digits data, any other shape synthetic data"})
    hidden_dim = fields.Integer(load_default=128, validate=validate.Range(1, 2048),
                                metadata={"description": "Units per hidden layer"})
    output_dim = fields.Integer(load_default=DIGITS_CLASSES, validate=validate.Range(2, 100),
                                metadata={"description": "Number of classes"})
    num_hidden_layers = fields.Integer(load_default=1, validate=validate.Range(1, 8),
                                       metadata={"description": "Hidden ReLU layers"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed for data split, initialisation and shuffling"})

    @validates_schema
    def _check_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        if uses_digits(data):
            return
        classes, features = data["output_dim"], data["input_dim"]
        if 2 ** informative_features(features, classes) < classes:
            raise ValidationError(f"Too few input features for {classes} classes", field_name="input_dim")
        samples = data["dataset_size"] or SYNTHETIC_DEFAULT_SAMPLES
        if samples < MIN_SAMPLES_PER_CLASS * classes:
            raise ValidationError(f"Needs at least {MIN_SAMPLES_PER_CLASS * classes} samples for "
                                  f"{classes} classes", field_name="dataset_size")


def uses_digits(config: dict[str, Any]) -> bool:
    """Whether the configured shape is the digits data's (64 features, 10 classes)."""
    return config["input_dim"] == DIGITS_FEATURES and config["output_dim"] == DIGITS_CLASSES


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Train the MLP with held-out validation, test it, save it."""
    seed = config["seed"]
    torch.manual_seed(seed)
    device = torch.device(ctx.device)
    ctx.progress(0.0, {"phase": "loading data"})
    if uses_digits(config):
        split = digits_split(seed, config["dataset_size"])
    else:
        split = synthetic_split(seed, config["dataset_size"] or SYNTHETIC_DEFAULT_SAMPLES,
                                config["input_dim"], config["output_dim"])
    data = split.tensors(device)
    ctx.check()

    params = {"input_dim": config["input_dim"], "hidden_dim": config["hidden_dim"],
              "output_dim": config["output_dim"], "num_hidden_layers": config["num_hidden_layers"]}
    model = MLP(**params).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    ctx.progress(1.0, {"phase": "training", "dataset": split.spec["name"], **split.sizes()})
    fitted = fit(ctx, model, optimizer, data["train"], data["validation"], epochs=config["epochs"],
                 batch_size=config["batch_size"], seed=seed, fingerprint=dict(config))

    outcome = finish_classifier(ctx, model, params, "mlp", split, data["test"], fitted, config["epochs"])
    requested = config["dataset_size"]
    if split.spec["name"] == "digits" and requested is not None and requested != split.spec["dataset_size"]:
        outcome.result["note"] = f"Used {split.spec['dataset_size']} of the {DIGITS_SAMPLES} digits samples"
    return outcome


TASK_TYPE = TaskType(
    name="neural_network_training",
    run=run,
    schema=Config,
    description="Train an MLP classifier (scikit-learn digits by default, synthetic data for other shapes) "
                "with held-out validation and test splits; saves the model",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["epochs"]),
    default_estimate_seconds=10.0,
)
