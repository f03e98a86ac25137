"""hyperparameter_optimization runner: the study finds a good MLP, prunes, stops on cancel, resumes exactly."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ultimate_agent.tasks.context import TaskCancelled, TaskContext, TaskInterrupted
from ultimate_agent.tasks.runners.hyperparameter_optimization import HIDDEN_WIDTHS, LR_RANGE, TASK_TYPE

from .runner_support import assert_invalid, make_ctx, run_task

SMALL = {"n_trials": 5, "epochs_per_trial": 4, "n_startup_trials": 2}


def test_study_finds_an_accurate_configuration(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"n_trials": 8, "epochs_per_trial": 6})
    result = outcome.result
    assert result["n_trials"] == 8 and len(result["trials"]) == 8
    assert [t["number"] for t in result["trials"]] == list(range(8))
    assert {t["state"] for t in result["trials"]} <= {"COMPLETE", "PRUNED"}
    complete = [t for t in result["trials"] if t["state"] == "COMPLETE"]
    assert result["best_value"] == max(t["value"] for t in complete)
    assert result["best_params"] == result["trials"][result["best_trial"]]["params"]
    params = result["best_params"]
    assert LR_RANGE[0] <= params["learning_rate"] <= LR_RANGE[1] and params["hidden_dim"] in HIDDEN_WIDTHS
    assert result["best_value"] > 0.9 and result["test_accuracy"] > 0.9
    # The search spans bad and good configurations: it is measuring, not echoing one number.
    assert min(t["value"] for t in result["trials"]) < result["best_value"] - 0.05
    assert Path(result["model_path"]).exists()
    assert result["resumed_from_epoch"] is None
    json.dumps(result), json.dumps(outcome.ai_result), json.dumps(outcome.history)


def test_median_pruner_stops_poor_trials(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, {"n_trials": 10, "epochs_per_trial": 5, "n_startup_trials": 3})
    result = outcome.result
    assert result["pruned_trials"] >= 1
    assert result["completed_trials"] + result["pruned_trials"] == 10
    epochs_seen: dict[int, int] = {}
    for _, d in seen:
        if "epoch" in d and "trial" in d:
            epochs_seen[d["trial"]] = max(epochs_seen.get(d["trial"], 0), d["epoch"])
    for trial in result["trials"]:
        ran = epochs_seen[trial["number"] + 1]
        assert ran == 5 if trial["state"] == "COMPLETE" else ran < 5


def test_progress_is_monotonic_and_reports_trials(tmp_path: Path) -> None:
    _, seen = run_task(TASK_TYPE, tmp_path, SMALL)
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    per_trial = [d for _, d in seen if "trial_value" in d]
    assert [d["trial"] for d in per_trial] == [1, 2, 3, 4, 5]
    assert {"trial", "total_trials", "trial_value", "best_value", "best_params"} <= set(per_trial[0])
    assert per_trial[-1]["best_value"] == max(d["trial_value"] for d in per_trial if d["state"] == "COMPLETE")


@pytest.mark.parametrize(("config", "field"), [
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": 201}, "n_trials"),
    ({"epochs_per_trial": 0}, "epochs_per_trial"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"sampler": "random"}, "sampler"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    assert_invalid(TASK_TYPE, config, field)


def test_cancel_inside_a_trial_stops_the_study(tmp_path: Path) -> None:
    seen: list = []
    cfg = TASK_TYPE.validate(SMALL)
    ctx = make_ctx(TASK_TYPE, tmp_path, cfg, seen, hook=lambda c, d: c.control.cancel())
    # Optuna would record an objective's exception as a failed trial and carry on unless re-raised.
    with pytest.raises(TaskCancelled):
        TASK_TYPE.run(ctx, cfg)
    assert len(seen) == 1 and seen[0][1]["trial"] == 1 and seen[0][1]["epoch"] == 1


def test_timeout_stops_starting_trials(tmp_path: Path) -> None:
    started = time.monotonic()
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"n_trials": 200, "epochs_per_trial": 3, "timeout_seconds": 1})
    assert 1 <= outcome.result["n_trials"] < 200
    assert time.monotonic() - started < 10


def test_interrupted_study_resumes_to_the_same_trials(tmp_path: Path) -> None:
    config = {**SMALL, "n_trials": 6}
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", config)
    # The restored part holds pruned as well as complete trials (the median pruner needs both back).
    assert {t["state"] for t in straight.result["trials"][:5]} == {"COMPLETE", "PRUNED"}

    def interrupt_after_five(ctx: TaskContext, details: dict[str, Any]) -> None:
        if details.get("trial") == 5 and "trial_value" in details:
            ctx.control.interrupt()

    with pytest.raises(TaskInterrupted):
        run_task(TASK_TYPE, tmp_path / "resumed", config, hook=interrupt_after_five)
    resumed, seen = run_task(TASK_TYPE, tmp_path / "resumed", config)
    assert resumed.result["resumed_from_epoch"] == 5
    assert [d["trial"] for _, d in seen if "trial_value" in d] == [6]
    # Restored trials plus the checkpointed sampler: the same proposals as an uninterrupted study.
    assert resumed.result["trials"] == straight.result["trials"]
    assert resumed.result["test_accuracy"] == straight.result["test_accuracy"]
