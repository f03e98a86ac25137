"""model_inference_batch: batched inference of a saved (or freshly trained built-in) digit classifier."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from flask import current_app, has_app_context
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...ai.datasets import DIGITS_CLASSES, DIGITS_FEATURES, digits_split, rebuild_split
from ...ai.networks import MLP, load_model, save_model, sidecar_path
from ...ai.training import PROGRESS_INTERVAL_SECONDS, fit, rounded
from ...errors import InvalidRequest
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

CLASSIFIER_ARCHITECTURES = ("mlp", "cnn")
SHOWN_PREDICTIONS = 10
TASK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


class Config(Schema):
    """Configuration of a batched inference run."""

    model = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64),
                          metadata={"description": "A digit classifier of the model registry (classification, "
                                                   "cnn, or a task-trained model's name); default: "
                                                   "classification"})
    model_path = fields.String(load_default=None, allow_none=True,
                               validate=[validate.Length(1, 500), validate.Regexp(r"^[^\x00]*$")],
                               metadata={"description": "A model.pt under the instance's models/ folder "
                                                        "(absolute, or relative to models/)"})
    model_task_id = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Regexp(TASK_ID_PATTERN),
                                  metadata={"description": "A finished neural_network_training or "
                                                           "cnn_training task whose model to use"})
    dataset = fields.String(load_default="auto", validate=validate.OneOf(["auto", "digits"]),
                            metadata={"description": "auto: the held-out test split the model was trained "
                                                     "alongside; digits: the same, requiring a digits model"})
    batch_size = fields.Integer(load_default=64, validate=validate.Range(1, 4096),
                                metadata={"description": "Samples per forward pass"})
    limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 100_000),
                           metadata={"description": "Infer over at most this many samples"})
    train_epochs = fields.Integer(load_default=5, validate=validate.Range(1, 50),
                                  metadata={"description": "Epochs for the built-in MLP when no model is given"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed for the built-in model's data split and training"})

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [key for key in ("model", "model_path", "model_task_id") if data[key] is not None]
        if len(given) > 1:
            raise ValidationError("Give one of model, model_path or model_task_id", field_name=given[-1])


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest("Invalid task configuration", {"field": field, "message": message, "location": "config"})


def resolve_model_path(ctx: TaskContext, config: dict[str, Any]) -> Path | None:
    """The saved model the config names, confined to the instance's models/ folder; None for the built-in."""
    models_root = (ctx.instance_path / "models").resolve()
    registered = _registry_path(config["model"] or ("classification" if not (
        config["model_path"] or config["model_task_id"]) else None))
    if config["model"] is not None and registered is None:
        raise _invalid("model", "No such digit classifier in the model registry")
    if registered is not None:
        field, path = "model", registered
    elif config["model_task_id"] is not None:
        field, path = "model_task_id", models_root / config["model_task_id"] / "model.pt"
    elif config["model_path"] is not None:
        field, raw = "model_path", Path(config["model_path"])
        path = raw if raw.is_absolute() else models_root / raw
    else:
        return None
    path = path.resolve()  # resolves '..' and symlinks before the containment check
    if not path.is_relative_to(models_root):
        raise _invalid(field, "The model must be inside the instance's models/ folder")
    if not path.is_file() or not sidecar_path(path).is_file():
        raise _invalid(field, "No saved model (model.pt with its model.json) there")
    return path


def _registry_path(name: str | None) -> Path | None:
    """Where the registry keeps the weights of a loaded model called `name` (the agent's own models)."""
    if name is None or not has_app_context():
        return None
    registry = current_app.extensions.get("model_registry")
    if registry is None or name not in registry.names():
        return None
    entry = registry.entry(name)
    return entry.path if entry.status == "loaded" and entry.path is not None else None


def _built_in(ctx: TaskContext, config: dict[str, Any], device: torch.device) -> tuple[torch.nn.Module, dict]:
    """Quickly train the default MLP on the digits train split (inference needs a trained model)."""
    seed = config["seed"]
    torch.manual_seed(seed)
    split = digits_split(seed)
    data = split.tensors(device)
    params = {"input_dim": DIGITS_FEATURES, "hidden_dim": 128, "output_dim": DIGITS_CLASSES, "num_hidden_layers": 1}
    model = MLP(**params).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    fitted = fit(ctx, model, optimizer, data["train"], data["validation"], epochs=config["train_epochs"],
                 batch_size=32, seed=seed, fingerprint=dict(config), progress_end=50.0)
    spec = {"architecture": "mlp", "params": params, "data": split.spec, "input_shape": [DIGITS_FEATURES],
            "task_type": ctx.task_type, "task_id": ctx.task_id}
    save_model(model, spec, ctx.artifact_path("model.pt"))
    spec["built_in"] = {"epochs": config["train_epochs"], "history": fitted.history,
                        "resumed_from_epoch": fitted.resumed_from_epoch}
    return model.eval(), spec


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Load (or build) the model, then time batched forward passes over held-out samples."""
    device = torch.device(ctx.device)
    ctx.progress(0.0, {"phase": "loading model"})
    path = resolve_model_path(ctx, config)
    if path is None:
        model, spec = _built_in(ctx, config, device)
        path = ctx.artifact_path("model.pt")
    else:
        field = next((key for key in ("model_task_id", "model_path") if config[key]), "model")
        try:
            model, spec = load_model(path, device)
        except Exception as exc:  # a foreign or damaged file: say so instead of failing obscurely
            raise _invalid(field, f"The saved model could not be loaded: {exc}") from exc
        if spec.get("architecture") not in CLASSIFIER_ARCHITECTURES or "data" not in spec:
            raise _invalid(field, "Only models saved by neural_network_training or cnn_training can be used")
    if config["dataset"] == "digits" and spec["data"]["name"] != "digits":
        raise _invalid("dataset", "This model was not trained on the digits data")
    split = rebuild_split(spec["data"])
    limit = config["limit"] or len(split.y_test)
    x = torch.as_tensor(split.x_test[:limit], device=device)
    y = torch.as_tensor(split.y_test[:limit], device=device)
    ctx.check()

    start_pct, batch_size = ctx.last_progress, config["batch_size"]
    batches = list(range(0, len(y), batch_size))
    outputs, elapsed, reported = [], 0.0, time.monotonic()
    with torch.inference_mode():
        for n, first in enumerate(batches):
            ctx.check()
            began = time.perf_counter()
            probs = torch.softmax(model(x[first:first + batch_size]), dim=-1)
            if device.type == "cuda":
                torch.cuda.synchronize(device)  # count the kernels, not just their launch
            elapsed += time.perf_counter() - began
            outputs.append(probs.cpu())
            if time.monotonic() - reported < PROGRESS_INTERVAL_SECONDS and n + 1 < len(batches):
                continue  # many tiny batches: report about once a second, not per batch
            reported = time.monotonic()
            ctx.progress(start_pct + (99.0 - start_pct) * (n + 1) / len(batches),
                         {"phase": "inference", "samples": min(first + batch_size, len(y)), "total": len(y)})
    probs = torch.cat(outputs)
    confidence, predicted = probs.max(dim=-1)
    labels = y.cpu()
    accuracy = float((predicted == labels).float().mean())
    shown = [{"index": i, "predicted": int(predicted[i]), "label": int(labels[i]),
              "confidence": rounded(confidence[i])} for i in range(min(SHOWN_PREDICTIONS, len(labels)))]
    result = {
        "model_path": str(path),
        "model_source": "built-in MLP trained for this task" if "built_in" in spec else "saved model",
        "architecture": spec["architecture"],
        "dataset": spec["data"]["name"],
        "split": "test (held out from the model's training)",
        "samples": len(labels),
        "batch_size": batch_size,
        "batches": len(batches),
        "inference_seconds": round(elapsed, 6),
        "samples_per_second": rounded(len(labels) / elapsed if elapsed > 0 else 0.0, 1),
        "accuracy": rounded(accuracy),
        "predictions": shown,
        "resumed_from_epoch": spec.get("built_in", {}).get("resumed_from_epoch"),
    }
    if "built_in" in spec:
        result["note"] = (f"No model was given: an MLP was trained for {spec['built_in']['epochs']} epochs on "
                          "the digits train split first, then used for inference")
    ctx.progress(100.0, {"phase": "done", "samples_per_second": result["samples_per_second"]})
    ai_result = {"samples": len(labels), "accuracy": rounded(accuracy),
                 "samples_per_second": result["samples_per_second"]}
    return TaskOutcome(result=result, ai_result=ai_result, history=spec.get("built_in", {}).get("history", []))


TASK_TYPE = TaskType(
    name="model_inference_batch",
    run=run,
    schema=Config,
    description="Batched inference of a saved MLP/CNN digit classifier (or a quickly trained built-in MLP) "
                "over its held-out test split: throughput, accuracy and sample predictions",
    ai_workload=True,
    training=False,
    work_units=lambda c: float(c["limit"] or 270),
    default_estimate_seconds=5.0,
)
