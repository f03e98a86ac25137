"""optimize_performance: measure training throughput per (concurrency, torch threads) and apply the best."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from marshmallow import Schema, fields, validate

from .limits import allowed_cores
from .registry import Command, CommandFailed

# The workload: one training step of a small MLP on a fixed batch, like the agent's training runners.
BATCH, FEATURES, HIDDEN, CLASSES = 256, 64, 256, 10
# A candidate must beat the current setting by this much to replace it (measurement noise).
MIN_GAIN = 1.05


class OptimizeParams(Schema):
    """optimize_performance parameters."""

    trial_seconds = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.05, max=5.0),
                                 metadata={"description": "Seconds per measured setting (OPTIMIZE_TRIAL_SECONDS)"})


def _train_steps(threads: int, start: threading.Barrier, deadline: list[float], counts: list[int],
                 slot: int) -> None:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(slot)
    model = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs = torch.randn(BATCH, FEATURES, generator=generator)
    labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)

    def step() -> None:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    step()  # warm-up: the thread's OpenMP pool and allocator
    start.wait()
    done = 0
    while time.perf_counter() < deadline[0]:
        step()
        done += 1
    counts[slot] = done


def measure(concurrency: int, threads: int, seconds: float) -> float:
    """Training samples per second of `concurrency` workers with `threads` torch threads each."""
    counts = [0] * concurrency
    window: list[float] = [0.0, 0.0]  # deadline, start

    def open_window() -> None:
        # Runs once every worker has warmed up, before any is released: each trial times the same work.
        window[1] = time.perf_counter()
        window[0] = window[1] + seconds

    barrier = threading.Barrier(concurrency, action=open_window)
    workers = [threading.Thread(target=_train_steps, args=(threads, barrier, window, counts, slot),
                                name=f"calibration-{slot}", daemon=True) for slot in range(concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - window[1]
    return round(sum(counts) * BATCH / elapsed, 1)


def candidates(cores: int, max_concurrency: int) -> list[tuple[int, int]]:
    """(concurrency, threads) pairs that use the allowed cores: powers of two of concurrency."""
    pairs = []
    concurrency = 1
    while concurrency <= min(cores, max_concurrency):
        pairs.append((concurrency, max(1, cores // concurrency)))
        concurrency *= 2
    return pairs


def optimize_performance(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Measure the current setting and the candidates, then apply the fastest when it is clearly faster."""
    manager = app.extensions.get("task_manager")
    if manager is None:
        raise CommandFailed("The task engine is not running")
    seconds = params["trial_seconds"] or float(app.config["OPTIMIZE_TRIAL_SECONDS"])
    cores = allowed_cores(app.config["CPU_LIMIT_PERCENT"])
    current = (manager.max_concurrent, manager.threads_per_task)
    before = measure(*current, seconds)
    trials = [{"concurrency": current[0], "torch_threads": current[1], "samples_per_second": before}]
    best, best_rate = current, before
    for pair in candidates(cores, int(app.config["MAX_CONCURRENT_TASKS"])):
        if pair == current:
            continue
        rate = measure(*pair, seconds)
        trials.append({"concurrency": pair[0], "torch_threads": pair[1], "samples_per_second": rate})
        if rate > best_rate:
            best, best_rate = pair, rate
    applied = best != current and best_rate >= before * MIN_GAIN
    if applied:
        manager.torch_threads = best[1]
        manager.set_concurrency(best[0])
    chosen = best if applied else current
    return {
        "before": {"concurrency": current[0], "torch_threads": current[1], "samples_per_second": before},
        "after": {"concurrency": chosen[0], "torch_threads": chosen[1],
                  "samples_per_second": best_rate if applied else before},
        "applied": applied,
        "trials": trials,
        "trial_seconds": seconds,
        "cores_allowed": cores,
        "tasks_running": len(manager.running_task_ids()),
    }


COMMANDS = (
    Command("optimize_performance", optimize_performance, OptimizeParams,
            description="Measure training throughput per concurrency and torch threads; apply the best"),
)
