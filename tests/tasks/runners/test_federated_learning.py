"""federated_learning runner: non-IID partitions, weighted FedAvg, accuracy, control and exact resume."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ultimate_agent.ai.federated import accuracy, dirichlet_partition, fedavg, shard_partition
from ultimate_agent.ai.networks import MLP
from ultimate_agent.tasks.context import TaskCancelled, TaskContext, TaskInterrupted
from ultimate_agent.tasks.runners.federated_learning import TASK_TYPE

from .runner_support import assert_cancels, assert_invalid, run_task

SMALL = {"rounds": 4, "local_epochs": 1}


def test_fedavg_weights_clients_by_sample_count() -> None:
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.0])}
    b = {"w": torch.tensor([5.0, 6.0]), "b": torch.tensor([4.0])}
    avg = fedavg([a, b], [1, 3])
    assert avg["w"].tolist() == [4.0, 5.0] and avg["b"].tolist() == [3.0]


def test_partitions_cover_every_sample_once_and_are_non_iid() -> None:
    labels = np.repeat(np.arange(10), 100)
    for parts in (shard_partition(labels, 4, 2, seed=0), dirichlet_partition(labels, 4, 0.5, seed=0)):
        joined = np.concatenate(parts)
        assert sorted(joined.tolist()) == list(range(1000))
        # Each client sees a skewed label mix: its commonest class is well above the IID 10%.
        assert all(np.bincount(labels[p], minlength=10).max() > 0.2 * len(p) for p in parts)
    shards = shard_partition(labels, 4, 2, seed=0)
    assert all(np.count_nonzero(np.bincount(labels[p], minlength=10)) <= 4 for p in shards)


def test_fedavg_reaches_good_global_accuracy(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"rounds": 8})
    result = outcome.result
    assert len(result["round_accuracies"]) == 8
    assert result["final_accuracy"] == result["round_accuracies"][-1]
    assert result["final_accuracy"] > 0.8
    assert result["round_accuracies"][-1] > result["round_accuracies"][0]
    dist, sizes = result["client_class_distribution"], result["client_sizes"]
    assert [sum(d) for d in dist] == sizes and sum(sizes) == 1797 - result["test_samples"]
    assert all(sum(1 for c in d if c == 0) >= 5 for d in dist)  # shards: each client misses most classes
    assert result["resumed_from_epoch"] is None
    # The saved global model scores the reported accuracy on the same held-out split.
    from ultimate_agent.ai.federated import load_digits_splits

    arch = json.loads(Path(result["model_path"]).with_name("model.json").read_text())
    model = MLP(arch["input_dim"], arch["hidden_dim"], arch["num_classes"])
    model.load_state_dict(torch.load(result["model_path"], weights_only=True))
    data = load_digits_splits(0, test_fraction=0.2)
    acc = accuracy(model, torch.as_tensor(data.x_test), torch.as_tensor(data.y_test))
    assert acc == pytest.approx(result["final_accuracy"], abs=1e-4)
    json.dumps(result), json.dumps(outcome.history)


def test_dirichlet_partition_run(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {**SMALL, "partition": "dirichlet", "num_clients": 3})
    assert len(outcome.result["client_sizes"]) == 3
    assert outcome.result["final_accuracy"] > 0.5


def test_progress_is_monotonic_and_reports_rounds(tmp_path: Path) -> None:
    _, seen = run_task(TASK_TYPE, tmp_path, SMALL)
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    rounds = [d for _, d in seen if "mean_client_loss" in d]
    assert [d["round"] for d in rounds] == [1, 2, 3, 4]
    assert set(rounds[0]) == {"round", "total_rounds", "global_accuracy", "mean_client_loss"}


@pytest.mark.parametrize(("config", "field"), [
    ({"rounds": 0}, "rounds"),
    ({"rounds": 501}, "rounds"),
    ({"num_clients": 1}, "num_clients"),
    ({"local_epochs": 0}, "local_epochs"),
    ({"partition": "iid"}, "partition"),
    ({"clients": 4}, "clients"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    assert_invalid(TASK_TYPE, config, field)


def test_cancel_after_first_round(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, SMALL)


def test_cancel_reaches_client_threads_mid_round(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({"rounds": 1, "local_epochs": 50, "batch_size": 1})  # one very long round
    ctx = TaskContext(task_id="t-test", task_type=TASK_TYPE.name, config=cfg, instance_path=tmp_path)
    threading.Timer(0.3, ctx.control.cancel).start()
    started = time.monotonic()
    with pytest.raises(TaskCancelled):
        TASK_TYPE.run(ctx, cfg)
    assert time.monotonic() - started < 5.0


class PauseInClientContext(TaskContext):
    """Pauses (and schedules a resume) the first time a client thread checks in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paused_once = threading.Event()
        self.states: list[str] = []

    def check(self) -> None:
        if threading.current_thread() is not threading.main_thread() and not self.paused_once.is_set():
            self.paused_once.set()
            self.control.pause()
            threading.Timer(0.5, self.control.resume).start()
        super().check()


def test_pause_in_client_threads_is_timed_once(tmp_path: Path) -> None:
    cfg = TASK_TYPE.validate({**SMALL, "rounds": 2})
    ctx = PauseInClientContext(task_id="t-test", task_type=TASK_TYPE.name, config=cfg, instance_path=tmp_path)
    ctx._on_state = ctx.states.append
    outcome = TASK_TYPE.run(ctx, cfg)
    assert ctx.paused_once.is_set()
    assert len(outcome.result["round_accuracies"]) == 2
    # Four client threads sat through the same pause; it is counted (and reported) once.
    assert 0.4 <= ctx.paused_seconds < 1.0
    assert ctx.states == ["paused", "running"]


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", SMALL)

    def interrupt_after_two(ctx: TaskContext, details: dict[str, Any]) -> None:
        if details.get("round") == 2:
            ctx.control.interrupt()

    with pytest.raises(TaskInterrupted):
        run_task(TASK_TYPE, tmp_path / "resumed", SMALL, hook=interrupt_after_two)
    resumed, seen = run_task(TASK_TYPE, tmp_path / "resumed", SMALL)
    assert resumed.result["resumed_from_epoch"] == 2
    assert [d["round"] for _, d in seen if "mean_client_loss" in d] == [3, 4]
    # Per-(round, client) shuffling seeds make the resumed rounds identical to an uninterrupted run.
    assert resumed.result["round_accuracies"] == straight.result["round_accuracies"]
    assert len(resumed.history) == 4
