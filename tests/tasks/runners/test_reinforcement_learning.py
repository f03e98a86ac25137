"""reinforcement_learning runner: CartPole returns rise, progress, config limits, cancel and exact resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import torch

from ultimate_agent.ai.rl import ActorCritic, discounted_returns, evaluate_greedy
from ultimate_agent.tasks.context import TaskContext, TaskInterrupted
from ultimate_agent.tasks.runners.reinforcement_learning import TASK_TYPE

from .runner_support import assert_cancels, assert_invalid, run_task

SMALL = {"episodes": 8, "max_steps_per_episode": 60, "eval_episodes": 2, "checkpoint_every": 1}


def test_policy_learns_to_balance(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {"episodes": 120, "eval_episodes": 3, "seed": 0})
    result = outcome.result
    returns = result["episode_returns"]
    assert len(returns) == 120 and len(outcome.history) == 120
    assert all(1 <= r <= 500 for r in returns)
    assert result["mean_first_20"] == pytest.approx(sum(returns[:20]) / 20, abs=1e-3)
    assert result["mean_last_20"] == pytest.approx(sum(returns[-20:]) / 20, abs=1e-3)
    assert result["best_return"] == max(returns)
    # Learning, not luck: an untrained policy lasts ~20 steps; after 120 episodes it lasts far longer.
    assert result["mean_last_20"] > 2 * result["mean_first_20"]
    assert result["mean_last_20"] > 60
    assert len(result["eval_returns"]) == 3
    assert result["eval_mean_return"] > result["mean_first_20"]
    assert result["total_steps"] == sum(int(r) for r in returns)
    assert result["resumed_from_epoch"] is None
    assert outcome.ai_result["eval_mean_return"] == result["eval_mean_return"]
    json.dumps(result), json.dumps(outcome.history)


def test_saved_policy_reloads_and_replays_the_evaluation(tmp_path: Path) -> None:
    outcome, _ = run_task(TASK_TYPE, tmp_path, {**SMALL, "episodes": 20})
    result = outcome.result
    arch = json.loads(Path(result["model_path"]).with_name("model.json").read_text())
    net = ActorCritic(arch["obs_dim"], arch["n_actions"], arch["hidden_dim"])
    net.load_state_dict(torch.load(result["model_path"], weights_only=True))
    env = gym.make(arch["env"], max_episode_steps=SMALL["max_steps_per_episode"])
    seeds = [50_000, 50_001]  # the runner's evaluation resets for seed 0
    assert evaluate_greedy(env, net, seeds, 60, torch.device("cpu")) == result["eval_returns"]


def test_discounted_returns() -> None:
    assert discounted_returns([1.0, 1.0, 1.0], 0.5).tolist() == [1.75, 1.5, 1.0]


def test_progress_is_monotonic_and_reports_episodes(tmp_path: Path) -> None:
    _, seen = run_task(TASK_TYPE, tmp_path, SMALL)
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    episodes = [d for _, d in seen if "episode_return" in d]
    assert [d["episode"] for d in episodes] == list(range(1, 9))
    assert set(episodes[0]) == {"episode", "total_episodes", "episode_return", "mean_return_last_20"}
    assert episodes[-1]["total_episodes"] == 8


@pytest.mark.parametrize(("config", "field"), [
    ({"episodes": 0}, "episodes"),
    ({"episodes": 2001}, "episodes"),
    ({"max_steps_per_episode": 501}, "max_steps_per_episode"),
    ({"gamma": 1.5}, "gamma"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"hidden_dim": 10_000}, "hidden_dim"),
    ({"env": "MountainCar-v0"}, "env"),
])
def test_bad_config_names_the_field(config: dict[str, Any], field: str) -> None:
    assert_invalid(TASK_TYPE, config, field)


def test_cancel_stops_the_run(tmp_path: Path) -> None:
    assert_cancels(TASK_TYPE, tmp_path, SMALL)


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    # Checkpoints every 5 episodes; the shutdown after episode 2 still saves what was done.
    config = {**SMALL, "checkpoint_every": 5}
    straight, _ = run_task(TASK_TYPE, tmp_path / "straight", config)

    def interrupt_after_two(ctx: TaskContext, details: dict[str, Any]) -> None:
        if details.get("episode") == 2:
            ctx.control.interrupt()

    with pytest.raises(TaskInterrupted):
        run_task(TASK_TYPE, tmp_path / "resumed", config, hook=interrupt_after_two)
    assert (tmp_path / "resumed" / "checkpoints" / "t-test.pt").exists()
    resumed, seen = run_task(TASK_TYPE, tmp_path / "resumed", config)
    assert resumed.result["resumed_from_epoch"] == 2
    assert [d["episode"] for _, d in seen if "episode_return" in d] == list(range(3, 9))
    # Seeded resets plus the checkpointed sampler and optimizer state replay the run exactly.
    assert resumed.result["episode_returns"] == straight.result["episode_returns"]
    assert resumed.result["eval_returns"] == straight.result["eval_returns"]
    assert len(resumed.history) == 8
