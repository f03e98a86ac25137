"""cnn_training runner: learns the digit images, validation, control and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ultimate_agent.ai.datasets import rebuild_split
from ultimate_agent.ai.networks import DigitCNN, load_model
from ultimate_agent.ai.training import evaluate
from ultimate_agent.tasks.runners.cnn_training import TASK_TYPE

from .runner_support import (
    assert_cancels,
    assert_invalid,
    assert_progress_complete,
    interrupt_then_resume,
    run_task,
)

SMALL = {"epochs": 4, "channels": 8}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_learns_digit_images_and_saves_a_reloadable_model(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, SMALL)
    result, history = outcome.result, outcome.history
    assert result["test_accuracy"] > 0.9
    assert outcome.ai_result["accuracy"] == result["test_accuracy"] and outcome.ai_result["epochs"] == 4
    assert len(history) == 4 and history[-1]["validation_loss"] < history[0]["validation_loss"]
    assert_progress_complete(seen)
    json.dumps(result), json.dumps(history)

    model, spec = load_model(Path(result["model_path"]), torch.device("cpu"))
    assert isinstance(model, DigitCNN) and spec["input_shape"] == [1, 8, 8]
    data = rebuild_split(spec["data"]).tensors(torch.device("cpu"))
    assert data["test"][0].shape[1:] == (1, 8, 8)
    _, acc = evaluate(model, data["test"], 512)
    assert round(acc, 4) == result["test_accuracy"]


def test_rejects_bad_config() -> None:
    assert_invalid(TASK_TYPE, {"epochs": 0}, "epochs")
    assert_invalid(TASK_TYPE, {"epochs": 1001}, "epochs")
    assert_invalid(TASK_TYPE, {"channels": 0}, "channels")
    assert_invalid(TASK_TYPE, {"kernel": 5}, "kernel")


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, SMALL)


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", SMALL)
    resumed, seen = interrupt_then_resume(TASK_TYPE, tmp_path / "resumed", SMALL)
    assert resumed.result["resumed_from_epoch"] == 2
    assert resumed.history == straight.history
    assert resumed.result["test_accuracy"] == straight.result["test_accuracy"]
    assert_progress_complete(seen)
