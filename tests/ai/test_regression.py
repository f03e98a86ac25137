"""The diabetes regressor: honest held-out quality, reload round trip, sane predictions, cancel."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score

from ultimate_agent.ai import networks
from ultimate_agent.ai.regression import diabetes_splits, predict_diabetes, train_diabetes_regressor
from ultimate_agent.tasks.context import TaskCancelled, TaskContext


@pytest.fixture(autouse=True)
def _single_torch_thread() -> Iterator[None]:
    """One thread: the tiny model is fastest so, and results do not depend on the machine's core count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, list]:
    """One training run (seed 0) shared by the tests that only inspect its result."""
    tmp_path = tmp_path_factory.mktemp("regression")
    seen: list = []
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # module-scoped, so the function-scoped fixture has not run yet
    try:
        ctx = TaskContext(task_id="t", task_type="regression", config={}, instance_path=tmp_path,
                          on_progress=lambda percent, details: seen.append((percent, details)))
        path = tmp_path / "model.pt"
        spec = train_diabetes_regressor(ctx, path, seed=0)
    finally:
        torch.set_num_threads(previous)
    return spec, path, seen


def test_trains_to_a_reasonable_held_out_r2(trained: tuple[dict[str, Any], Path, list]) -> None:
    spec, path, seen = trained
    assert spec["test_r2"] >= 0.35
    assert 0 < spec["test_mae"] <= spec["test_rmse"] < 80  # target std is ~77: better than the mean
    assert spec["architecture"] == "mlp" and spec["task"] == "regression" and spec["dataset"] == "diabetes"
    assert spec["params"] == {"input_dim": 10, "hidden_dim": 64, "output_dim": 1, "num_hidden_layers": 1}
    assert spec["feature_names"] == list(load_diabetes().feature_names)
    assert 100 < spec["target_mean"] < 200 and 50 < spec["target_std"] < 100
    assert spec["seed"] == 0
    # The returned spec is the sidecar, and JSON-able as is.
    assert json.loads(networks.sidecar_path(path).read_text()) == spec
    assert seen[-1][0] == 100.0
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and len(percents) >= 5


def test_reloaded_model_reproduces_test_predictions(trained: tuple[dict[str, Any], Path, list]) -> None:
    spec, path, _ = trained
    model, loaded_spec = networks.load_model(path, torch.device("cpu"))
    splits = diabetes_splits(loaded_spec["seed"])
    predicted = predict_diabetes(model, loaded_spec, torch.from_numpy(splits.x_test))
    assert predicted.shape == (len(splits.y_test),)
    assert not predicted.requires_grad
    assert r2_score(splits.y_test, predicted.numpy()) == pytest.approx(spec["test_r2"], abs=1e-6)
    rmse = math.sqrt(float(((predicted - torch.from_numpy(splits.y_test)) ** 2).mean()))
    assert rmse == pytest.approx(spec["test_rmse"], rel=1e-5)


def test_predictions_stay_in_the_target_range(trained: tuple[dict[str, Any], Path, list]) -> None:
    _, path, _ = trained
    model, spec = networks.load_model(path, torch.device("cpu"))
    data = load_diabetes()
    predicted = predict_diabetes(model, spec, torch.from_numpy(data.data).float())
    assert predicted.shape == (442,)
    assert float(predicted.min()) >= 25 and float(predicted.max()) <= 346
    # Worth more than predicting the mean on the whole data set too.
    assert r2_score(data.target, predicted.numpy()) > 0.4


def test_cancel_from_progress_hook_raises(tmp_path: Path) -> None:
    def on_progress(percent: float, details: dict[str, Any] | None) -> None:
        if details and details.get("epoch", 0) >= 30:
            ctx.control.cancel()

    ctx = TaskContext(task_id="t", task_type="regression", config={}, instance_path=tmp_path,
                      on_progress=on_progress)
    path = tmp_path / "model.pt"
    with pytest.raises(TaskCancelled):
        train_diabetes_regressor(ctx, path, epochs=300, seed=0)
    assert ctx.last_progress < 100.0
    assert not path.exists()
