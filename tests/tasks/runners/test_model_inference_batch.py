"""model_inference_batch runner: built-in and saved models, path confinement, throughput, control, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ultimate_agent.errors import InvalidRequest
from ultimate_agent.tasks.runners import cnn_training, neural_network_training, transformer_training
from ultimate_agent.tasks.runners.model_inference_batch import TASK_TYPE

from .runner_support import (
    assert_cancels,
    assert_invalid,
    assert_progress_complete,
    interrupt_then_resume,
    run_task,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_rejected(tmp_path: Path, config: dict, field: str) -> None:
    """Running with `config` fails with InvalidRequest naming `field`."""
    with pytest.raises(InvalidRequest) as info:
        run_task(TASK_TYPE, tmp_path, config)
    assert info.value.details["field"] == field


def test_built_in_model_is_trained_then_inferred(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, {"train_epochs": 2})
    result = outcome.result
    assert result["model_source"].startswith("built-in") and "trained for 2 epochs" in result["note"]
    assert result["samples"] == 270 and result["batches"] == 5 and result["accuracy"] > 0.85
    assert result["samples_per_second"] > 0 and result["inference_seconds"] > 0
    assert len(result["predictions"]) == 10
    assert all(0 <= p["confidence"] <= 1 and 0 <= p["predicted"] < 10 for p in result["predictions"])
    assert len(outcome.history) == 2 and Path(result["model_path"]).is_file()
    assert_progress_complete(seen)
    json.dumps(result)


def test_saved_models_reproduce_their_test_accuracy(tmp_path: Path) -> None:
    mlp, _ = run_task(neural_network_training.TASK_TYPE, tmp_path, {"epochs": 3}, task_id="mlp-1")
    cnn, _ = run_task(cnn_training.TASK_TYPE, tmp_path, {"epochs": 2, "channels": 4}, task_id="cnn-1")

    by_id, _ = run_task(TASK_TYPE, tmp_path, {"model_task_id": "mlp-1", "batch_size": 7})
    assert by_id.result["model_source"] == "saved model" and by_id.result["architecture"] == "mlp"
    assert by_id.result["accuracy"] == mlp.result["test_accuracy"] and by_id.result["batches"] == 39

    by_path, _ = run_task(TASK_TYPE, tmp_path, {"model_path": "cnn-1/model.pt", "dataset": "digits"})
    assert by_path.result["architecture"] == "cnn"
    assert by_path.result["accuracy"] == cnn.result["test_accuracy"]

    absolute, _ = run_task(TASK_TYPE, tmp_path, {"model_path": cnn.result["model_path"], "limit": 25})
    assert absolute.result["samples"] == 25


def test_synthetic_models_infer_on_their_own_data(tmp_path: Path) -> None:
    config = {"input_dim": 12, "output_dim": 3, "dataset_size": 300, "epochs": 2}
    trained, _ = run_task(neural_network_training.TASK_TYPE, tmp_path, config, task_id="syn")
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"model_task_id": "syn"})
    assert outcome.result["dataset"] == "synthetic" and outcome.result["samples"] == 45
    assert outcome.result["accuracy"] == trained.result["test_accuracy"]
    assert_rejected(tmp_path, {"model_task_id": "syn", "dataset": "digits"}, "dataset")


def test_model_location_is_confined_and_checked(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "model.pt").write_bytes(b"x")
    (secret / "model.json").write_text("{}")
    assert_rejected(tmp_path, {"model_path": "../secret/model.pt"}, "model_path")
    assert_rejected(tmp_path, {"model_path": str(secret / "model.pt")}, "model_path")
    assert_rejected(tmp_path, {"model_path": "/etc/passwd"}, "model_path")
    assert_rejected(tmp_path, {"model_path": "nothing/model.pt"}, "model_path")
    assert_rejected(tmp_path, {"model_task_id": "no-such-task"}, "model_task_id")
    damaged = tmp_path / "models" / "damaged"
    damaged.mkdir(parents=True)
    (damaged / "model.pt").write_bytes(b"not a checkpoint")
    (damaged / "model.json").write_text('{"architecture": "mlp"}')
    assert_rejected(tmp_path, {"model_task_id": "damaged"}, "model_task_id")
    assert_invalid(TASK_TYPE, {"model_task_id": "../secret"}, "model_task_id")
    assert_invalid(TASK_TYPE, {"model_path": "a\x00b"}, "model_path")
    assert_invalid(TASK_TYPE, {"model_task_id": "a", "model_path": "a/model.pt"}, "model_task_id")


def test_only_classifiers_are_accepted(tmp_path: Path) -> None:
    text = "a small text to model, " * 20
    run_task(transformer_training.TASK_TYPE, tmp_path,
             {"text": text, "epochs": 1, "seq_len": 8, "d_model": 16, "nhead": 2, "num_layers": 1},
             task_id="lm")
    assert_rejected(tmp_path, {"model_task_id": "lm"}, "model_task_id")


def test_rejects_bad_config() -> None:
    assert_invalid(TASK_TYPE, {"batch_size": 0}, "batch_size")
    assert_invalid(TASK_TYPE, {"dataset": "mnist"}, "dataset")
    assert_invalid(TASK_TYPE, {"limit": 0}, "limit")
    assert_invalid(TASK_TYPE, {"train_epochs": 51}, "train_epochs")
    assert_invalid(TASK_TYPE, {"weights": "x"}, "weights")


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, {"train_epochs": 3})


def test_interrupted_built_in_training_resumes(tmp_path: Path) -> None:
    outcome, seen = interrupt_then_resume(TASK_TYPE, tmp_path, {"train_epochs": 3})
    assert outcome.result["resumed_from_epoch"] == 2 and len(outcome.history) == 3
    assert_progress_complete(seen)
