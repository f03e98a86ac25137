"""Overhead of the task engine: the same MLP training through the agent and as a plain torch loop.

Prints both times (median of --repeats alternating runs), their ratio (aim: at most 1.05), and the
submit-to-running latency of the task manager (aim: under 50 ms), measured in this process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ultimate_agent import create_app  # noqa: E402
from ultimate_agent.ai.datasets import digits_split  # noqa: E402
from ultimate_agent.ai.networks import MLP  # noqa: E402
from ultimate_agent.ai.training import classification_loss  # noqa: E402
from ultimate_agent.models.base import utcnow  # noqa: E402


def plain_training(config: dict, threads: int) -> tuple[float, float]:
    """The MLP run as a bare torch loop (same data, model, optimiser, shuffle and evaluation): seconds, accuracy."""
    torch.set_num_threads(threads)
    started = time.perf_counter()
    torch.manual_seed(config["seed"])
    split = digits_split(config["seed"])
    data = split.tensors(torch.device("cpu"))
    model = MLP(64, config["hidden_dim"], 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    x, y = data["train"]
    history = []
    for epoch in range(config["epochs"]):
        model.train()
        generator = torch.Generator().manual_seed(config["seed"] * 1_000_003 + epoch)
        total = 0.0
        for idx in torch.randperm(len(y), generator=generator).split(config["batch_size"]):
            optimizer.zero_grad(set_to_none=True)
            loss = classification_loss(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():  # what any training script logs per epoch: losses and validation accuracy
            vx, vy = data["validation"]
            logits = model(vx)
            history.append((total / len(y), float(classification_loss(logits, vy)),
                            float((logits.argmax(-1) == vy).float().mean())))
    with torch.no_grad():
        tx, ty = data["test"]
        accuracy = float((model(tx).argmax(-1) == ty).float().mean())
    return time.perf_counter() - started, accuracy


def agent_training(app, config: dict) -> tuple[float, float]:
    """The same run submitted to the agent's task manager and waited for: seconds, accuracy."""
    manager = app.extensions["task_manager"]
    with app.app_context():
        started = time.perf_counter()
        task_id = manager.submit("neural_network_training", config)["task_id"]
        manager.wait(task_id)
        elapsed = time.perf_counter() - started
        record = manager.get(task_id)
        assert record.status == "completed", record.error
        return elapsed, record.ai_result["accuracy"]


def submit_latencies(app, count: int) -> list[float]:
    """Milliseconds from a submit() call to the worker marking the task running (its stored start_time)."""
    manager = app.extensions["task_manager"]
    latencies = []
    with app.app_context():
        for _ in range(count):
            called = utcnow()
            task_id = manager.submit("data_processing", {})["task_id"]
            manager.wait(task_id)  # an event wait: polling the record would steal the worker's GIL
            record = manager.get(task_id)
            latencies.append((record.start_time - called).total_seconds() * 1000)
    return latencies


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()
    config = {"epochs": args.epochs, "batch_size": 32, "learning_rate": 0.003, "hidden_dim": args.hidden_dim,
              "seed": 0}
    with tempfile.TemporaryDirectory() as instance:
        # No first-start model training in the background: it would share the cores with the measurement.
        app = create_app({"INSTANCE_PATH": instance, "MONITOR_AUTOSTART": False, "AI_MODELS_AUTOLOAD": False,
                          "CHAIN_ENABLED": False, "NODE_URL": ""})
        threads = app.extensions["task_manager"].threads_per_task  # the same budget for the plain loop
        agent_training(app, {**config, "epochs": 1})  # warm-up: imports, allocator, first checkpoint
        plain_training({**config, "epochs": 1}, threads)
        plain_times, agent_times = [], []
        for _ in range(args.repeats):
            seconds, plain_acc = plain_training(config, threads)
            plain_times.append(seconds)
            seconds, agent_acc = agent_training(app, config)
            agent_times.append(seconds)
        latencies = submit_latencies(app, args.latency_samples)
        app.extensions["task_manager"].shutdown()
    plain, agent = statistics.median(plain_times), statistics.median(agent_times)
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {threads} torch threads per run")
    print(f"config: MLP 64-{args.hidden_dim}-10 on digits, {args.epochs} epochs, batch 32, "
          f"median of {args.repeats} alternating runs")
    print(f"{'run':<22}{'seconds':>10}{'test acc':>10}")
    print(f"{'plain torch loop':<22}{plain:>10.3f}{plain_acc:>10.3f}")
    print(f"{'through the agent':<22}{agent:>10.3f}{agent_acc:>10.3f}")
    print(f"ratio agent/plain: {agent / plain:.3f}  (aim <= 1.05)")
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"submit-to-running latency over {len(latencies)} tasks: median {statistics.median(latencies):.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms  (aim < 50 ms)")


if __name__ == "__main__":
    main()
