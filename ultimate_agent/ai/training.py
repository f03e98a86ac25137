"""A generic training loop for the AI runners: minibatch epochs, evaluation, checkpoint resume, progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..tasks.context import TaskContext, TaskOutcome
from .datasets import ClassificationSplit
from .networks import count_parameters, save_model

# How often intra-epoch progress is reported; per-epoch reports are always sent.
PROGRESS_INTERVAL_SECONDS = 1.0
Tensors = tuple[torch.Tensor, torch.Tensor]


def rounded(value: float, digits: int = 4) -> float:
    """A plain Python float rounded for progress details and results."""
    return round(float(value), digits)


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy over the last logits dimension; works for (N, C) and sequence (N, T, C) outputs."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def batch_order(n: int, batch_size: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    """Index batches over n samples: shuffled with `generator`, in order when it is None."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return list(order.split(batch_size))


def train_epoch(model: nn.Module, data: Tensors, optimizer: torch.optim.Optimizer, batch_size: int,
                ctx: TaskContext, generator: torch.Generator,
                on_batch: Callable[[int, int], None] | None = None) -> float:
    """One pass over shuffled minibatches; ctx.check() before each step. Returns the mean training loss."""
    model.train()
    x, y = data
    batches = batch_order(len(y), batch_size, generator)
    total, count = 0.0, 0
    for i, idx in enumerate(batches):
        ctx.check()
        idx = idx.to(x.device)
        xb, yb = x[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = classification_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
        if on_batch is not None:
            on_batch(i + 1, len(batches))
    return total / max(count, 1)


@torch.no_grad()
def evaluate(model: nn.Module, data: Tensors, batch_size: int,
             ctx: TaskContext | None = None) -> tuple[float, float]:
    """Mean loss and accuracy (per predicted element: per sample, or per token for sequences)."""
    model.eval()
    x, y = data
    loss_sum, correct, elements = 0.0, 0, 0
    for idx in batch_order(len(y), batch_size, None):
        if ctx is not None:
            ctx.check()
        idx = idx.to(x.device)
        logits = model(x[idx])
        yb = y[idx]
        loss_sum += float(classification_loss(logits, yb, reduction="sum"))
        correct += int((logits.argmax(-1) == yb).sum())
        elements += yb.numel()
    return loss_sum / max(elements, 1), correct / max(elements, 1)


def _rng_state(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _restore_rng(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@dataclass
class FitResult:
    """What `fit` produced: per-epoch history and where it resumed from."""

    history: list[dict[str, Any]] = field(default_factory=list)
    resumed_from_epoch: int | None = None
    seconds: float = 0.0


def fit(ctx: TaskContext, model: nn.Module, optimizer: torch.optim.Optimizer, train: Tensors,
        validation: Tensors, *, epochs: int, batch_size: int, seed: int, fingerprint: dict[str, Any],
        progress_start: float = 1.0, progress_end: float = 95.0,
        extra_metrics: Callable[[float, float, float], dict[str, Any]] | None = None) -> FitResult:
    """Train for `epochs`, checkpointing each epoch and resuming from a checkpoint of the same config."""
    device = next(model.parameters()).device
    result = FitResult()
    start = 0
    state = ctx.load_checkpoint()
    if state is not None and state.get("fingerprint") == fingerprint:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        _restore_rng(state["rng"], device)
        result.history = list(state["history"])
        start = int(state["epoch"])
        result.resumed_from_epoch = start
        ctx.logger.info("Task %s resumes after epoch %d", ctx.task_id, start)
    elif state is not None:
        ctx.logger.warning("Ignoring checkpoint of task %s: made with another configuration", ctx.task_id)

    span = progress_end - progress_start
    began = time.monotonic()
    for epoch in range(start, epochs):
        last_report = time.monotonic()

        def on_batch(done: int, total: int, epoch: int = epoch) -> None:
            nonlocal last_report
            if time.monotonic() - last_report >= PROGRESS_INTERVAL_SECONDS:
                last_report = time.monotonic()
                ctx.progress(progress_start + span * (epoch + done / total) / epochs,
                             {"epoch": epoch + 1, "total_epochs": epochs, "batch": done, "batches": total})

        # A per-epoch generator makes the shuffle order independent of where a run resumed.
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        train_loss = train_epoch(model, train, optimizer, batch_size, ctx, generator, on_batch)
        val_loss, val_acc = evaluate(model, validation, max(batch_size, 256), ctx)
        record = {"epoch": epoch + 1, "total_epochs": epochs, "training_loss": rounded(train_loss),
                  "validation_loss": rounded(val_loss), "accuracy": rounded(val_acc)}
        if extra_metrics is not None:
            record.update(extra_metrics(train_loss, val_loss, val_acc))
        result.history.append(record)
        ctx.save_checkpoint({"fingerprint": fingerprint, "epoch": epoch + 1, "history": result.history,
                             "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "rng": _rng_state(device)})
        ctx.progress(progress_start + span * (epoch + 1) / epochs, record)
    result.seconds = time.monotonic() - began
    return result


def finish_classifier(ctx: TaskContext, model: nn.Module, params: dict[str, Any], architecture: str,
                      split: ClassificationSplit, test: Tensors, fitted: FitResult,
                      epochs: int) -> TaskOutcome:
    """Test a trained classifier on the held-out split, save it with its sidecar, build the outcome."""
    test_loss, test_acc = evaluate(model, test, 1024, ctx)
    input_shape = list(split.x_test.shape[1:])
    spec = {"architecture": architecture, "params": params, "data": split.spec, "input_shape": input_shape,
            "task_type": ctx.task_type, "task_id": ctx.task_id, "test_accuracy": rounded(test_acc)}
    path = save_model(model, spec, ctx.artifact_path("model.pt"))
    last = fitted.history[-1]
    result = {
        "dataset": split.spec["name"],
        "dataset_size": split.spec["dataset_size"],
        "splits": split.sizes(),
        "parameters": count_parameters(model),
        "epochs": epochs,
        "final_training_loss": last["training_loss"],
        "final_validation_loss": last["validation_loss"],
        "validation_accuracy": last["accuracy"],
        "test_loss": rounded(test_loss),
        "test_accuracy": rounded(test_acc),
        "training_seconds": rounded(fitted.seconds, 3),
        "model_path": str(path),
        "resumed_from_epoch": fitted.resumed_from_epoch,
    }
    ctx.progress(100.0, {"phase": "done", "test_accuracy": rounded(test_acc)})
    ai_result = {"final_loss": last["training_loss"], "accuracy": rounded(test_acc), "epochs": epochs}
    return TaskOutcome(result=result, ai_result=ai_result, history=fitted.history)
