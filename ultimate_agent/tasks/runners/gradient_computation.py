"""gradient_computation: backpropagated gradients of an MLP on a batch of digits, checked by finite differences."""

from __future__ import annotations

import copy
import time
from typing import Any

import torch
from marshmallow import Schema, fields, validate

from ...ai.datasets import DIGITS_CLASSES, DIGITS_FEATURES, digits_split
from ...ai.networks import MLP, count_parameters
from ...ai.training import classification_loss
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

# With float64 and the default step, central differences agree with backprop to ~1e-7 (truncation and
# rounding); a step that crosses a ReLU kink shows up as a large error and fails the check.
PASS_THRESHOLD = 1e-5
# Entries whose gradient is (numerically) zero say nothing about correctness: their relative error is noise.
MIN_CHECKED_GRADIENT = 1e-4


class Config(Schema):
    """Configuration of a gradient computation and check."""

    batch_size = fields.Integer(load_default=64, validate=validate.Range(1, 1024),
                                metadata={"description": "Digit images in the batch"})
    hidden_dim = fields.Integer(load_default=32, validate=validate.Range(1, 512),
                                metadata={"description": "Units per hidden layer of the MLP"})
    num_hidden_layers = fields.Integer(load_default=2, validate=validate.Range(1, 6),
                                       metadata={"description": "Hidden ReLU layers of the MLP"})
    num_checks = fields.Integer(load_default=20, validate=validate.Range(1, 500),
                                metadata={"description": "Parameter entries checked by finite differences"})
    epsilon = fields.Float(load_default=1e-5, validate=validate.Range(1e-10, 1e-2),
                           metadata={"description": "Finite-difference step"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed for the batch, initialisation and checked entries"})


def _gradient_norms(model: torch.nn.Module) -> tuple[dict[str, float], float]:
    """Per-parameter L2 norms of .grad and their combined norm (as clip_grad_norm_ computes it)."""
    norms = {name: float(p.grad.norm()) for name, p in model.named_parameters() if p.grad is not None}
    total = float(torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None]).norm())
    return norms, total


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Backpropagate one batch, report gradient norms, and verify entries by central differences."""
    seed = config["seed"]
    torch.manual_seed(seed)
    device = torch.device(ctx.device)
    ctx.progress(0.0, {"phase": "loading data"})
    split = digits_split(seed)
    picks = torch.randperm(len(split.y_train), generator=torch.Generator().manual_seed(seed))
    picks = picks[: config["batch_size"]].numpy()
    x = torch.as_tensor(split.x_train[picks], device=device)
    y = torch.as_tensor(split.y_train[picks], device=device)

    model = MLP(DIGITS_FEATURES, config["hidden_dim"], DIGITS_CLASSES, config["num_hidden_layers"]).to(device)
    started = time.perf_counter()
    loss = classification_loss(model(x), y)
    loss.backward()
    loss_value = float(loss.detach())
    backward_seconds = time.perf_counter() - started
    norms, total_norm = _gradient_norms(model)
    ctx.progress(10.0, {"phase": "gradients", "loss": round(loss_value, 4), "total_norm": round(total_norm, 4)})

    # The check runs on a float64 copy so rounding error does not swamp the finite differences.
    model64 = copy.deepcopy(model).double()
    model64.zero_grad(set_to_none=True)
    x64 = x.double()
    classification_loss(model64(x64), y).backward()
    named = [(name, p) for name, p in model64.named_parameters()]
    candidates = [(i, j) for i, (_, p) in enumerate(named)
                  for j in torch.nonzero(p.grad.abs().flatten() >= MIN_CHECKED_GRADIENT).flatten().tolist()]
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    chosen = [candidates[k] for k in order[: config["num_checks"]]]
    eps = config["epsilon"]
    checks, max_error = [], 0.0
    with torch.no_grad():
        for n, (i, j) in enumerate(chosen):
            ctx.check()
            name, param = named[i]
            flat = param.view(-1)
            original = float(flat[j])
            flat[j] = original + eps
            plus = float(classification_loss(model64(x64), y))
            flat[j] = original - eps
            minus = float(classification_loss(model64(x64), y))
            flat[j] = original
            numeric = (plus - minus) / (2 * eps)
            analytic = float(param.grad.view(-1)[j])
            error = abs(analytic - numeric) / max(abs(analytic), abs(numeric))
            max_error = max(max_error, error)
            checks.append({"parameter": name, "index": j, "analytic": analytic, "numeric": numeric,
                           "relative_error": error})
            ctx.progress(10.0 + 89.0 * (n + 1) / len(chosen),
                         {"phase": "finite differences", "checked": n + 1,
                          "max_relative_error": float(f"{max_error:.4g}")})

    passed = bool(checks) and max_error < PASS_THRESHOLD
    result = {
        "model": {"architecture": "mlp", "input_dim": DIGITS_FEATURES, "hidden_dim": config["hidden_dim"],
                  "num_hidden_layers": config["num_hidden_layers"], "output_dim": DIGITS_CLASSES,
                  "parameters": count_parameters(model)},
        "batch_size": len(y),
        "loss": loss_value,
        "gradient_norms": norms,
        "total_gradient_norm": total_norm,
        "backward_seconds": round(backward_seconds, 6),
        "num_checks": len(checks),
        "epsilon": eps,
        "max_relative_error": max_error,
        "pass_threshold": PASS_THRESHOLD,
        "gradient_check_passed": passed,
        "checks": checks[:10],
    }
    ctx.progress(100.0, {"phase": "done", "gradient_check_passed": passed})
    ai_result = {"loss": loss_value, "total_gradient_norm": total_norm, "max_relative_error": max_error,
                 "gradient_check_passed": passed}
    return TaskOutcome(result=result, ai_result=ai_result)


TASK_TYPE = TaskType(
    name="gradient_computation",
    run=run,
    schema=Config,
    description="Backpropagate an MLP on a batch of digits: per-layer gradient norms, total norm, and a "
                "float64 central-difference check of sampled parameter entries",
    ai_workload=True,
    training=False,
    work_units=lambda c: float(c["num_checks"]),
    default_estimate_seconds=2.0,
)
