"""Reinforcement learning: REINFORCE with a learned value baseline on gymnasium's CartPole-v1."""

from __future__ import annotations

import json
import time
from typing import Any

import gymnasium as gym
import torch
from marshmallow import Schema, fields, validate

from ...ai.rl import ActorCritic, evaluate_greedy, reinforce_update, rollout
from ..context import TaskContext, TaskInterrupted, TaskOutcome
from ..registry import TaskType

ENV_ID = "CartPole-v1"
WINDOW = 20  # episodes in the "first"/"last" means and the running mean
EVAL_SEED_OFFSET = 50_000  # past the episode cap: evaluation never reuses a training reset seed


class Config(Schema):
    """Config of a reinforcement_learning task."""

    episodes = fields.Integer(load_default=300, validate=validate.Range(1, 2000),
                              metadata={"description": "Training episodes"})
    learning_rate = fields.Float(load_default=0.01, validate=validate.Range(1e-5, 1.0),
                                 metadata={"description": "Adam learning rate"})
    final_lr_fraction = fields.Float(load_default=0.1, validate=validate.Range(0.0, 1.0),
                                     metadata={"description": "Learning rate decays linearly to this share of "
                                                              "learning_rate by the last episode"})
    gamma = fields.Float(load_default=0.99, validate=validate.Range(0.5, 1.0),
                         metadata={"description": "Discount factor"})
    hidden_dim = fields.Integer(load_default=64, validate=validate.Range(4, 512),
                                metadata={"description": "Hidden units of the policy and value nets"})
    entropy_coef = fields.Float(load_default=0.01, validate=validate.Range(0.0, 1.0),
                                metadata={"description": "Weight of the entropy bonus"})
    max_steps_per_episode = fields.Integer(load_default=500, validate=validate.Range(10, 500),
                                           metadata={"description": "Step cap per episode"})
    eval_episodes = fields.Integer(load_default=5, validate=validate.Range(1, 50),
                                   metadata={"description": "Greedy-policy episodes in the final evaluation"})
    checkpoint_every = fields.Integer(load_default=10, validate=validate.Range(1, 1000),
                                      metadata={"description": "Save a checkpoint every N episodes"})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1),
                          metadata={"description": "Seed of the net, action sampling and env resets"})


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def run(ctx: TaskContext, config: dict[str, Any]) -> TaskOutcome:
    """Train a CartPole policy with REINFORCE + baseline, checkpointing and resuming by episode."""
    device = torch.device(ctx.device)
    seed, episodes = config["seed"], config["episodes"]
    max_steps = config["max_steps_per_episode"]
    env = gym.make(ENV_ID, max_episode_steps=max_steps)
    obs_dim, n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)

    torch.manual_seed(seed)
    net = ActorCritic(obs_dim, n_actions, config["hidden_dim"]).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config["learning_rate"])
    sampler = torch.Generator().manual_seed(seed)
    returns: list[float] = []
    history: list[dict[str, Any]] = []
    start_episode, resumed_from = 0, None

    state = ctx.load_checkpoint()
    if state is not None:
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.set_state(state["sampler"])
        returns, history = list(state["returns"]), list(state["history"])
        start_episode = resumed_from = int(state["episode"])
        ctx.logger.info("Resuming %s from episode %d", ctx.task_id, start_episode)

    def checkpoint(done: int) -> None:
        ctx.save_checkpoint({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                             "sampler": sampler.get_state(), "episode": done,
                             "returns": returns, "history": history})

    started = time.monotonic()
    for episode in range(start_episode, episodes):
        try:
            ctx.check()
        except TaskInterrupted:
            # A shutdown between episodes: keep everything done so far, not just the last N-multiple.
            checkpoint(episode)
            raise
        # Annealing the step size keeps a policy that has learned to balance from drifting off it again;
        # computed from the episode index, so a resumed run continues the same schedule.
        for group in optimizer.param_groups:
            group["lr"] = config["learning_rate"] * (1 - (1 - config["final_lr_fraction"]) * episode / episodes)
        # Each episode resets from its own seed, so a resumed run replays the same environments.
        played = rollout(env, net, seed * 100_003 + episode, max_steps, device, sampler)
        losses = reinforce_update(net, optimizer, played, config["gamma"], device, config["entropy_coef"])
        returns.append(played.total_return)
        running = _mean(returns[-WINDOW:])
        history.append({"episode": episode + 1, "episode_return": played.total_return,
                        "mean_return_last_20": running, "steps": len(played.rewards),
                        **{k: round(v, 4) for k, v in losses.items()}})
        if (episode + 1) % config["checkpoint_every"] == 0:
            checkpoint(episode + 1)
        ctx.progress(95.0 * (episode + 1) / episodes,
                     {"episode": episode + 1, "total_episodes": episodes,
                      "episode_return": played.total_return, "mean_return_last_20": running})

    ctx.check()
    eval_seeds = [seed * 100_003 + EVAL_SEED_OFFSET + i for i in range(config["eval_episodes"])]
    eval_returns = evaluate_greedy(env, net, eval_seeds, max_steps, device)
    env.close()

    model_path = ctx.artifact_path("model.pt")
    torch.save(net.state_dict(), model_path)
    architecture = {"class": "ActorCritic", "env": ENV_ID, **net.architecture()}
    ctx.artifact_path("model.json").write_text(json.dumps(architecture, indent=2))

    first, last = _mean(returns[:WINDOW]), _mean(returns[-WINDOW:])
    result = {
        "env": ENV_ID,
        "algorithm": "REINFORCE with learned value baseline, linearly annealed learning rate",
        "episodes": episodes,
        "episode_returns": returns,
        "mean_first_20": first,
        "mean_last_20": last,
        "best_return": max(returns) if returns else 0.0,
        "eval_returns": eval_returns,
        "eval_mean_return": _mean(eval_returns),
        "total_steps": int(sum(h["steps"] for h in history)),
        "train_seconds": round(time.monotonic() - started, 3),
        "model_path": str(model_path),
        "resumed_from_epoch": resumed_from,
    }
    ctx.progress(100.0, {"episode": episodes, "total_episodes": episodes,
                         "eval_mean_return": result["eval_mean_return"]})
    ai_result = {"model": "ActorCritic", "env": ENV_ID, "mean_first_20": first, "mean_last_20": last,
                 "eval_mean_return": result["eval_mean_return"], "max_return": float(max_steps)}
    return TaskOutcome(result=result, ai_result=ai_result, history=history)


TASK_TYPE = TaskType(
    name="reinforcement_learning",
    run=run,
    schema=Config,
    description="Train a CartPole-v1 policy with REINFORCE and a value baseline; evaluate it greedily.",
    ai_workload=True,
    training=True,
    work_units=lambda c: float(c["episodes"]),
    default_estimate_seconds=15.0,
)
