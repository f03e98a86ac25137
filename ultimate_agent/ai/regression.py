"""A small torch regressor on scikit-learn's diabetes data: training with a held-out test, and prediction."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_diabetes
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.nn import functional as F

from ..tasks.context import TaskContext
from .networks import MLP, save_model

TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2  # of what is left after the test split
HIDDEN_DIM = 64
LEARNING_RATE = 1e-3
# Progress is reported about this many times over a run (each epoch is well under a millisecond).
PROGRESS_REPORTS = 20


@dataclass
class DiabetesSplits:
    """The diabetes data split into train/validation/test, features and targets as float32 arrays."""

    feature_names: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def diabetes_splits(seed: int) -> DiabetesSplits:
    """The train/validation/test split `train_diabetes_regressor` uses for `seed`."""
    data = load_diabetes()
    x, y = data.data.astype(np.float32), data.target.astype(np.float32)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=TEST_FRACTION, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=VALIDATION_FRACTION,
                                                      random_state=seed)
    return DiabetesSplits(list(data.feature_names), x_train, y_train, x_val, y_val, x_test, y_test)


def _standardise(features: torch.Tensor, spec: dict[str, Any]) -> torch.Tensor:
    mean = torch.tensor(spec["feature_mean"], dtype=features.dtype, device=features.device)
    std = torch.tensor(spec["feature_std"], dtype=features.dtype, device=features.device)
    return (features - mean) / std


def predict_diabetes(model: nn.Module, spec: dict[str, Any], features: torch.Tensor) -> torch.Tensor:
    """Predictions in the original target units for raw sklearn features of shape (N, 10)."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = _standardise(features.to(device=device, dtype=torch.float32), spec)
        standardised = model(x).squeeze(1)
        return (standardised * spec["target_std"] + spec["target_mean"]).to(features.device)


def train_diabetes_regressor(ctx: TaskContext, model_path: Path, *, epochs: int = 300,
                             seed: int = 0) -> dict[str, Any]:
    """Train an MLP regressor on the diabetes data, test it on a held-out split, save it; returns the spec."""
    began = time.monotonic()
    ctx.check()
    splits = diabetes_splits(seed)
    # sklearn scales each column to unit L2 norm (std ~0.05), too small for default init to train fast;
    # both feature and target statistics come from the training split only, so nothing leaks from test.
    feature_mean = splits.x_train.mean(axis=0)
    feature_std = splits.x_train.std(axis=0)
    target_mean = float(splits.y_train.mean())
    target_std = float(splits.y_train.std())
    params = {"input_dim": len(splits.feature_names), "hidden_dim": HIDDEN_DIM, "output_dim": 1,
              "num_hidden_layers": 1}
    spec: dict[str, Any] = {
        "architecture": "mlp", "params": params, "task": "regression", "dataset": "diabetes",
        "feature_names": splits.feature_names,
        "feature_mean": [float(v) for v in feature_mean], "feature_std": [float(v) for v in feature_std],
        "target_mean": target_mean, "target_std": target_std, "seed": seed,
    }

    def features(x: np.ndarray) -> torch.Tensor:
        return _standardise(torch.from_numpy(x), spec)

    def targets(y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy((y - target_mean) / target_std).unsqueeze(1)

    x_train, y_train = features(splits.x_train), targets(splits.y_train)
    x_val, y_val = features(splits.x_validation), targets(splits.y_validation)

    # Seed the initial weights without disturbing the process-wide RNG other tasks rely on.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MLP(**params)
    # Full-batch Adam: 283 training rows make one batch, which is both fastest and smoothest here.
    # The model stays on the CPU whatever ctx.device is: transfers would cost more than the maths.
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    best_loss, best_epoch = float("inf"), 0
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    report_every = max(1, epochs // PROGRESS_REPORTS)
    for epoch in range(1, epochs + 1):
        ctx.check()  # an epoch takes well under a millisecond, so this is far more often than needed
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            val_loss = float(F.mse_loss(model(x_val), y_val))
        # The small validation set is noisy and the MLP overfits within a few hundred epochs, so the
        # best epoch on validation is kept rather than the last one.
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if epoch % report_every == 0 or epoch == epochs:
            ctx.progress(95.0 * epoch / epochs, {"epoch": epoch, "total_epochs": epochs,
                                                 "training_loss": round(float(loss.detach()), 4),
                                                 "validation_loss": round(val_loss, 4),
                                                 "best_epoch": best_epoch})
    model.load_state_dict(best_state)
    model.eval()

    ctx.check()
    predicted = predict_diabetes(model, spec, torch.from_numpy(splits.x_test)).numpy()
    spec.update({
        "test_r2": float(r2_score(splits.y_test, predicted)),
        "test_mae": float(mean_absolute_error(splits.y_test, predicted)),
        "test_rmse": float(np.sqrt(mean_squared_error(splits.y_test, predicted))),
        "best_epoch": best_epoch, "epochs": epochs,
        "splits": {"train": len(splits.y_train), "validation": len(splits.y_validation),
                   "test": len(splits.y_test)},
        "training_seconds": round(time.monotonic() - began, 3),
    })
    save_model(model, spec, model_path)
    ctx.progress(100.0, {"phase": "done", "test_r2": round(spec["test_r2"], 4)})
    return spec
