"""Federated learning: FedAvg over simulated clients holding non-IID shards of the digits data."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from marshmallow import Schema, fields, validate

from ...ai.datasets import DIGITS_CLASSES, DIGITS_FEATURES
from ...ai.federated import (
    accuracy,
    class_counts,
    dirichlet_partition,
    fedavg,
    load_digits_splits,
    local_update,
    shard_partition,
)
from ...ai.networks import MLP
from ..context import TaskContext, TaskOutcome
from ..registry import TaskType

MAX_WORKERS = 8  # client threads; more would only contend for the same cores


class Config(Schema):
    """Config of a federated_learning task."""

    num_clients = fields.Integer(load_default=4, validate=validate.Range(2, 32),
                                 metadata={"description": "Simulated clients"})
    rounds = fields.Integer(load_default=20, validate=validate.Range(1, 500),
                            metadata={"description": "Federated rounds (local training + averaging)"})
    local_epochs = fields.Integer(load_default=2, validate=validate.Range(1, 50),
                                  metadata={"description": "Passes over its own data each client makes per round"})
    batch_size = fields.Integer(load_default=16, validate=validate.Range(1, 1024),
                                metadata={"description": "Client mini-batch size"})
    learning_rate = fields.Float(load_default=0.02, validate=validate.Range(1e-5, 1.0),
                                 metadata={"description": "Client SGD learning rate"})
    momentum = fields.Float(load_default=0.9, validate=validate.Range(0.0, 0.99),
                            metadata={"description": "Client SGD momentum"})
    hidden_dim = fields.Integer(load_default=64, validate=validate.Range(4, 1024),
                                metadata={"description": "Hidden units of the shared MLP"})
    partition = fields.String(load_default="shards", validate=validate.OneOf(["shards", "dirichlet"]),
                              metadata={"description": "Non-IID split: label-sorted shards or Dirichlet(alpha)"})
    shards_per_client = fields.Integer(load_default=2, validate=validate.Range(1, 10),
                                       metadata={"description": "Label-sorted shards each client gets (shards)"})
    dirichlet_alpha = fields.Float(load_default=0.5, validate=validate.Range(0.01, 100.0),
                                   metadata={"description": "Concentration of the class split (dirichlet)"})
    test_fraction = fields.Float(load_default=0.2, validate=validate.Range(0.1, 0.5),
                                 metadata={"description": "Held-out share for the global test accuracy"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed of the split, partition, init and shuffling"})


def _client_generator(seed: int, round_index: int, client: int) -> torch.Generator:
    # One generator per (round, client): shuffles do not depend on thread scheduling or on resuming.
    return torch.Generator().manual_seed(seed * 1_000_003 + round_index * 1_009 + client)


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Run weighted FedAvg rounds with clients trained in parallel threads; checkpoint every round."""
    device = torch.device(ctx.device)
    seed, rounds, n_clients = config["seed"], config["rounds"], config["num_clients"]
    data = load_digits_splits(seed, test_fraction=config["test_fraction"])
    if config["partition"] == "shards":
        parts = shard_partition(data.y_train, n_clients, config["shards_per_client"], seed)
    else:
        parts = dirichlet_partition(data.y_train, n_clients, config["dirichlet_alpha"], seed)
    clients = [(torch.as_tensor(data.x_train[p], device=device), torch.as_tensor(data.y_train[p], device=device))
               for p in parts]
    sizes = [len(p) for p in parts]
    x_test, y_test = torch.as_tensor(data.x_test, device=device), torch.as_tensor(data.y_test, device=device)

    torch.manual_seed(seed)
    model = MLP(DIGITS_FEATURES, config["hidden_dim"], DIGITS_CLASSES).to(device)
    history: list[dict[str, Any]] = []
    start_round, resumed_from = 0, None
    state = ctx.load_checkpoint()
    if state is not None:
        model.load_state_dict(state["model"])
        history = list(state["history"])
        start_round = resumed_from = int(state["round"])
        ctx.logger.info("Resuming %s from round %d", ctx.task_id, start_round)

    check_lock = threading.Lock()

    def client_check() -> None:
        # One client thread at a time: while paused only one blocks inside ctx.check, so the pause is
        # reported and timed once rather than once per client.
        with check_lock:
            ctx.check()

    active = [c for c in range(n_clients) if sizes[c] > 0]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=min(len(active), MAX_WORKERS),
                            thread_name_prefix=f"fl-{ctx.task_id}") as pool:
        for rnd in range(start_round, rounds):
            ctx.check()
            futures = [pool.submit(local_update, model, *clients[c], config["local_epochs"],
                                   config["batch_size"], config["learning_rate"], config["momentum"],
                                   _client_generator(seed, rnd, c), client_check) for c in active]
            # result() re-raises a client's TaskCancelled/TaskInterrupted here; the other clients stop
            # at their next check() since they share the same control.
            outcomes = [f.result() for f in futures]
            model.load_state_dict(fedavg([s for s, _ in outcomes], [sizes[c] for c in active]))
            acc = accuracy(model, x_test, y_test)
            client_losses = [round(loss, 4) for _, loss in outcomes]
            entry = {"round": rnd + 1, "total_rounds": rounds, "global_accuracy": round(acc, 4),
                     "mean_client_loss": round(sum(client_losses) / len(client_losses), 4)}
            history.append({**entry, "client_losses": client_losses})
            ctx.save_checkpoint({"model": model.state_dict(), "round": rnd + 1, "history": history})
            ctx.progress(97.0 * (rnd + 1) / rounds, entry)

    model_path = ctx.artifact_path("model.pt")
    torch.save(model.state_dict(), model_path)
    ctx.artifact_path("model.json").write_text(json.dumps(
        {"class": "MLP", "input_dim": DIGITS_FEATURES, "hidden_dim": config["hidden_dim"],
         "num_classes": DIGITS_CLASSES, "input_scaling": "pixels / 16"}, indent=2))
    accuracies = [h["global_accuracy"] for h in history]
    result = {
        "algorithm": "FedAvg (sample-weighted)",
        "dataset": "sklearn digits",
        "num_clients": n_clients,
        "rounds": rounds,
        "round_accuracies": accuracies,
        "final_accuracy": accuracies[-1],
        "best_accuracy": max(accuracies),
        "test_samples": len(data.y_test),
        "client_sizes": sizes,
        "client_class_distribution": [class_counts(data.y_train[p]) for p in parts],
        "train_seconds": round(time.monotonic() - started, 3),
        "model_path": str(model_path),
        "resumed_from_epoch": resumed_from,
    }
    ctx.progress(100.0, {"round": rounds, "total_rounds": rounds, "global_accuracy": accuracies[-1]})
    ai_result = {"model": "MLP", "algorithm": "FedAvg", "num_clients": n_clients,
                 "final_accuracy": accuracies[-1], "rounds": rounds}
    return TaskOutcome(result=result, ai_result=ai_result, history=history)


TASK_TYPE = TaskType(
    name="federated_learning",
    run=run,
    schema=Config,
    description="FedAvg of an MLP over simulated clients with non-IID digits shards, trained in parallel.",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["rounds"] * c["local_epochs"]),
    default_estimate_seconds=10.0,
)
