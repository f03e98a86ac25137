"""gradient_computation runner: gradient norms, finite-difference agreement, validation and cancel."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ultimate_agent.tasks.runners.gradient_computation import PASS_THRESHOLD, TASK_TYPE

from .runner_support import assert_cancels, assert_invalid, assert_progress_complete, run_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_backprop_agrees_with_central_differences(tmp_path: Path) -> None:
    outcome, seen = run_task(TASK_TYPE, tmp_path, {"num_checks": 40, "hidden_dim": 16})
    result = outcome.result
    assert result["gradient_check_passed"] and outcome.ai_result["gradient_check_passed"]
    assert result["num_checks"] == 40 and result["max_relative_error"] < 1e-6 < PASS_THRESHOLD
    for check in result["checks"]:
        assert check["analytic"] == pytest.approx(check["numeric"], rel=1e-6)
    # Two hidden layers: three Linear layers, each with weight and bias.
    names = list(result["gradient_norms"])
    assert names == [f"net.{i}.{kind}" for i in (0, 2, 4) for kind in ("weight", "bias")]
    total = math.sqrt(sum(n * n for n in result["gradient_norms"].values()))
    assert result["total_gradient_norm"] == pytest.approx(total, rel=1e-5)
    assert result["loss"] == pytest.approx(math.log(10), rel=0.2)  # an untrained 10-class model
    assert_progress_complete(seen)
    json.dumps(result), json.dumps(outcome.ai_result)


def test_is_reproducible_for_a_seed(tmp_path: Path) -> None:
    first, _ = run_task(TASK_TYPE, tmp_path, {"num_checks": 5, "seed": 3})
    second, _ = run_task(TASK_TYPE, tmp_path, {"num_checks": 5, "seed": 3})
    assert first.result["gradient_norms"] == second.result["gradient_norms"]
    assert first.result["checks"] == second.result["checks"]


def test_rejects_bad_config() -> None:
    assert_invalid(TASK_TYPE, {"num_checks": 0}, "num_checks")
    assert_invalid(TASK_TYPE, {"epsilon": 0}, "epsilon")
    assert_invalid(TASK_TYPE, {"batch_size": 5000}, "batch_size")
    assert_invalid(TASK_TYPE, {"model": "resnet"}, "model")


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, {"num_checks": 50})
