"""neural_network_training runner: learns digits, synthetic shapes, validation, control and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ultimate_agent.ai.datasets import rebuild_split
from ultimate_agent.ai.networks import load_model
from ultimate_agent.ai.training import evaluate
from ultimate_agent.tasks.runners.neural_network_training import TASK_TYPE

from .runner_support import (
    assert_cancels,
    assert_invalid,
    assert_progress_complete,
    interrupt_then_resume,
    run_task,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_learns_digits_and_saves_a_reloadable_model(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, {"epochs": 6})
    result, history = outcome.result, outcome.history
    assert result["dataset"] == "digits" and result["splits"] == {"train": 1257, "validation": 270, "test": 270}
    assert result["test_accuracy"] > 0.9
    assert outcome.ai_result == {"final_loss": history[-1]["training_loss"], "accuracy": result["test_accuracy"],
                                 "epochs": 6}
    assert [h["epoch"] for h in history] == list(range(1, 7))
    assert set(history[0]) == {"epoch", "total_epochs", "training_loss", "validation_loss", "accuracy"}
    assert history[-1]["training_loss"] < history[0]["training_loss"] / 2
    assert result["resumed_from_epoch"] is None
    assert_progress_complete(seen)
    json.dumps(result), json.dumps(history)

    # The artifact rebuilds from its sidecar and scores the reported accuracy on the same held-out split.
    model, spec = load_model(Path(result["model_path"]), torch.device("cpu"))
    split = rebuild_split(spec["data"])
    data = split.tensors(torch.device("cpu"))
    _, acc = evaluate(model, data["test"], 512)
    assert round(acc, 4) == result["test_accuracy"]


def test_other_shapes_use_synthetic_data(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"input_dim": 20, "output_dim": 3, "dataset_size": 600,
                                                "epochs": 8})
    assert outcome.result["dataset"] == "synthetic" and outcome.result["dataset_size"] == 600
    assert outcome.result["test_accuracy"] > 0.8


def test_seed_curl_shape_784_runs(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"input_dim": 784, "output_dim": 10, "hidden_dim": 64,
                                                "dataset_size": 1000, "epochs": 3})
    assert outcome.result["dataset"] == "synthetic"
    assert outcome.result["test_accuracy"] > 0.2  # chance is 0.1


def test_rejects_bad_config() -> None:
    assert_invalid(TASK_TYPE, {"epochs": 0}, "epochs")
    assert_invalid(TASK_TYPE, {"epochs": 1001}, "epochs")
    assert_invalid(TASK_TYPE, {"bogus": 1}, "bogus")
    assert_invalid(TASK_TYPE, {"learning_rate": 0}, "learning_rate")
    assert_invalid(TASK_TYPE, {"input_dim": 2, "output_dim": 10}, "input_dim")
    assert_invalid(TASK_TYPE, {"input_dim": 32, "output_dim": 50, "dataset_size": 200}, "dataset_size")
    assert TASK_TYPE.validate({})["epochs"] == 20


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, {"epochs": 5})


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    config = {"epochs": 4}
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", config)
    resumed, seen = interrupt_then_resume(TASK_TYPE, tmp_path / "resumed", config)
    assert resumed.result["resumed_from_epoch"] == 2
    assert resumed.history == straight.history
    assert resumed.result["test_accuracy"] == straight.result["test_accuracy"]
    assert_progress_complete(seen)
