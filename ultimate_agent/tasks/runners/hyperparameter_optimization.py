"""Hyperparameter optimisation: an Optuna TPE study with median pruning over a digits MLP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import optuna
import torch
from marshmallow import Schema, fields, validate
from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.trial import FrozenTrial, Trial, TrialState

from ...ai.datasets import DIGITS_CLASSES, DIGITS_FEATURES
from ...ai.federated import accuracy, load_digits_splits, train_epoch
from ...ai.networks import MLP
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

LR_RANGE = (1e-4, 0.3)
HIDDEN_WIDTHS = [16, 32, 64, 128, 256]
BATCH_SIZES = [16, 32, 64, 128]
SEARCH_PERCENT = 90.0  # progress share of the search; the rest is the final retrain


class Config(Schema):
    """Config of a hyperparameter_optimization task."""

    n_trials = fields.Integer(load_default=12, validate=validate.Range(1, 200),
                              metadata={"description": "Trials in the study"})
    epochs_per_trial = fields.Integer(load_default=15, validate=validate.Range(1, 100),
                                      metadata={"description": "Training epochs per trial (and for the final fit)"})
    n_startup_trials = fields.Integer(load_default=4, validate=validate.Range(1, 100),
                                      metadata={"description": "Random trials before TPE takes over"})
    timeout_seconds = fields.Float(load_default=None, allow_none=True, validate=validate.Range(1, 3600),
                                   metadata={"description": "Stop starting new trials after this long"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed of the data split, sampler and every trial"})


def _suggest(trial: Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", *LR_RANGE, log=True),
        "hidden_dim": trial.suggest_categorical("hidden_dim", HIDDEN_WIDTHS),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
    }


def _trial_record(t: FrozenTrial) -> dict[str, Any]:
    """A finished trial as plain data: enough to report it and to re-add it to a new study."""
    return {"number": t.number, "params": dict(t.params), "value": t.value, "state": t.state.name,
            "intermediate_values": {int(k): float(v) for k, v in t.intermediate_values.items()},
            "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()}}


def _restore_trial(record: dict[str, Any]) -> FrozenTrial:
    return optuna.trial.create_trial(
        params=record["params"], value=record["value"], state=TrialState[record["state"]],
        intermediate_values=record["intermediate_values"],
        distributions={k: json_to_distribution(d) for k, d in record["distributions"].items()})


def _fit(ctx: TaskContext, params: dict[str, Any], x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int,
         on_epoch: Callable[[int, MLP], None] | None = None) -> MLP:
    """Train a fresh MLP with `params`; `on_epoch(epoch, model)` runs after each epoch (it may raise)."""
    torch.manual_seed(seed)
    model = MLP(DIGITS_FEATURES, params["hidden_dim"], DIGITS_CLASSES).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
    shuffle = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        train_epoch(model, optimizer, x, y, params["batch_size"], shuffle, ctx.check)
        if on_epoch is not None:
            on_epoch(epoch, model)
    return model


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Search learning rate, width and batch size by validation accuracy; retrain the best on train+val."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    device = torch.device(ctx.device)
    seed, n_trials, epochs = config["seed"], config["n_trials"], config["epochs_per_trial"]
    data = load_digits_splits(seed, test_fraction=0.2, val_fraction=0.2)

    def to(array: Any) -> torch.Tensor:
        return torch.as_tensor(array, device=device)

    x_train, y_train, x_val, y_val = to(data.x_train), to(data.y_train), to(data.x_val), to(data.y_val)

    state = ctx.load_checkpoint()
    records: list[dict[str, Any]] = list(state["trials"]) if state else []
    # The pickled sampler carries its RNG on, so a resumed study proposes what an uninterrupted one would.
    sampler = state["sampler"] if state else optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=config["n_startup_trials"])
    # No pruning in the first third of a trial: slow starters (large batches, small steps) would lose to
    # fast ones before their accuracy says anything about where they end up.
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=max(1, epochs // 3))
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                pruner=pruner)
    for record in records:
        study.add_trial(_restore_trial(record))
    resumed_from = len(records) if state else None
    if state:
        ctx.logger.info("Resuming %s with %d finished trials", ctx.task_id, len(records))

    def objective(trial: Trial) -> float:
        params = _suggest(trial)

        def on_epoch(epoch: int, model: MLP) -> None:
            acc = accuracy(model, x_val, y_val)
            trial.report(acc, epoch)
            ctx.progress(SEARCH_PERCENT * (trial.number + (epoch + 1) / epochs) / n_trials,
                         {"trial": trial.number + 1, "total_trials": n_trials, "epoch": epoch + 1,
                          "validation_accuracy": round(acc, 4)})
            if trial.should_prune():
                raise optuna.TrialPruned()

        model = _fit(ctx, params, x_train, y_train, epochs, seed * 1_000 + trial.number, on_epoch)
        return accuracy(model, x_val, y_val)

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        records.append(_trial_record(trial))
        ctx.save_checkpoint({"trials": records, "sampler": study.sampler})
        best = _best(study)
        ctx.progress(SEARCH_PERCENT * (trial.number + 1) / n_trials,
                     {"trial": trial.number + 1, "total_trials": n_trials, "state": trial.state.name,
                      "trial_value": _round(trial.value), "best_value": _round(best.value) if best else None,
                      "best_params": _round_params(best.params) if best else None})

    started = time.monotonic()
    remaining = n_trials - len(records)
    if remaining > 0:
        # catch=() makes optuna re-raise anything but TrialPruned: a cancel or shutdown ends the study.
        study.optimize(objective, n_trials=remaining, timeout=config["timeout_seconds"], catch=(),
                       callbacks=[after_trial], gc_after_trial=False)
    best = _best(study)
    if best is None:
        raise RuntimeError("Every trial was pruned; no configuration to retrain")

    ctx.check()
    params = dict(best.params)
    x_full, y_full = torch.cat([x_train, x_val]), torch.cat([y_train, y_val])
    final = _fit(ctx, params, x_full, y_full, epochs, seed * 1_000 + best.number,
                 lambda e, _m: ctx.progress(SEARCH_PERCENT + (100 - SEARCH_PERCENT) * (e + 1) / epochs,
                                            {"stage": "final_fit", "epoch": e + 1, "total_epochs": epochs}))
    test_acc = accuracy(final, to(data.x_test), to(data.y_test))
    model_path = ctx.artifact_path("model.pt")
    torch.save(final.state_dict(), model_path)
    ctx.artifact_path("model.json").write_text(json.dumps(
        {"class": "MLP", "input_dim": DIGITS_FEATURES, "num_classes": DIGITS_CLASSES,
         "input_scaling": "pixels / 16", **params}, indent=2))

    trials = [{"number": r["number"], "params": _round_params(r["params"]), "value": _round(r["value"]),
               "state": r["state"]} for r in records]
    counts = {s: sum(1 for t in trials if t["state"] == s) for s in ("COMPLETE", "PRUNED")}
    result = {
        "best_params": _round_params(params),
        "best_value": _round(best.value),
        "best_trial": best.number,
        "test_accuracy": _round(test_acc),
        "trials": trials,
        "completed_trials": counts["COMPLETE"],
        "pruned_trials": counts["PRUNED"],
        "n_trials": len(trials),
        "data_sizes": {"train": len(data.y_train), "validation": len(data.y_val), "test": len(data.y_test)},
        "search_seconds": round(time.monotonic() - started, 3),
        "model_path": str(model_path),
        "resumed_from_epoch": resumed_from,
    }
    ctx.progress(100.0, {"trial": len(trials), "total_trials": n_trials, "best_value": result["best_value"],
                         "test_accuracy": result["test_accuracy"]})
    ai_result = {"model": "MLP", "sampler": "TPE", "pruner": "median", "best_params": result["best_params"],
                 "validation_accuracy": result["best_value"], "test_accuracy": result["test_accuracy"]}
    history = [{"trial": t["number"] + 1, "value": t["value"], "state": t["state"], **t["params"]}
               for t in trials]
    return TaskOutcome(result=result, ai_result=ai_result, history=history)


def _best(study: optuna.Study) -> FrozenTrial | None:
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    return max(complete, key=lambda t: t.value) if complete else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _round_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in params.items()}


TASK_TYPE = TaskType(
    name="hyperparameter_optimization",
    run=run,
    schema=Config,
    description="Optuna TPE search (median pruning) over an MLP's learning rate, width and batch size on digits.",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["n_trials"] * c["epochs_per_trial"]),
    default_estimate_seconds=20.0,
)
