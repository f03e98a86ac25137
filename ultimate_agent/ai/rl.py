"""Policy-gradient reinforcement learning: an actor-critic net, episode rollouts and REINFORCE updates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


class ActorCritic(nn.Module):
    """Separate small MLPs for the policy (action logits) and the state-value baseline."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_dim: int = 128) -> None:
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden_dim = obs_dim, n_actions, hidden_dim
        # Separate trunks: a shared one lets the value loss disturb the policy features.
        self.policy = nn.Sequential(
            nn.Linear(obs_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, n_actions)
        )
        self.value = nn.Sequential(
            nn.Linear(obs_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, 1)
        )

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits and state values for a batch of observations."""
        return self.policy(obs), self.value(obs).squeeze(-1)

    def architecture(self) -> dict[str, Any]:
        """What is needed to rebuild this net before loading its weights."""
        return {"obs_dim": self.obs_dim, "n_actions": self.n_actions, "hidden_dim": self.hidden_dim}


@dataclass
class Episode:
    """One rollout: the observations visited, actions taken and rewards received."""

    observations: list[list[float]] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    # Set when the episode was cut off by the step limit rather than ended by failure: the return
    # from here on is not zero, so the update bootstraps it from the critic.
    final_observation: list[float] | None = None

    @property
    def total_return(self) -> float:
        """Undiscounted sum of rewards."""
        return float(sum(self.rewards))


@torch.no_grad()
def rollout(
    env: Any,
    net: ActorCritic,
    seed: int,
    max_steps: int,
    device: torch.device,
    generator: torch.Generator | None = None,
    greedy: bool = False,
) -> Episode:
    """Play one episode from a seeded reset; sample actions (or take the argmax when greedy)."""
    obs, _ = env.reset(seed=seed)
    episode = Episode()
    for _ in range(max_steps):
        logits, _ = net(torch.as_tensor(obs, dtype=torch.float32, device=device).unsqueeze(0))
        if greedy:
            action = int(logits.argmax(dim=-1).item())
        else:
            # Sample on CPU with our own generator so a checkpointed generator state replays exactly.
            probs = torch.softmax(logits.squeeze(0).float().cpu(), dim=-1)
            action = int(torch.multinomial(probs, 1, generator=generator).item())
        episode.observations.append([float(x) for x in obs])
        episode.actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode.rewards.append(float(reward))
        if terminated:
            return episode
        if truncated:
            break
    episode.final_observation = [float(x) for x in obs]
    return episode


def discounted_returns(rewards: list[float], gamma: float, tail_value: float = 0.0) -> torch.Tensor:
    """Reward-to-go G_t = r_t + gamma * G_{t+1}, with G after the last step taken as `tail_value`."""
    out = [0.0] * len(rewards)
    running = tail_value
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return torch.tensor(out, dtype=torch.float32)


def reinforce_update(
    net: ActorCritic,
    optimizer: torch.optim.Optimizer,
    episode: Episode,
    gamma: float,
    device: torch.device,
    entropy_coef: float = 0.01,
) -> dict[str, float]:
    """One REINFORCE step with a learned value baseline on a finished episode; returns the losses."""
    obs = torch.tensor(episode.observations, dtype=torch.float32, device=device)
    actions = torch.tensor(episode.actions, dtype=torch.long, device=device)
    tail = 0.0
    if episode.final_observation is not None:
        with torch.no_grad():
            final = torch.tensor([episode.final_observation], dtype=torch.float32, device=device)
            tail = float(net(final)[1].item())
    returns = discounted_returns(episode.rewards, gamma, tail).to(device)
    logits, values = net(obs)
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(1, actions.unsqueeze(1)).squeeze(1)
    advantages = returns - values.detach()
    # Normalising the advantages keeps the step size comparable between short and long episodes.
    if advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1).mean()
    policy_loss = -(chosen * advantages).mean() - entropy_coef * entropy
    # The critic regresses scaled returns so its loss does not dwarf the policy's gradient.
    scale = max(1.0, float(returns.abs().max()))
    value_loss = nn.functional.mse_loss(values / scale, returns / scale)
    optimizer.zero_grad()
    (policy_loss + value_loss).backward()
    nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    optimizer.step()
    return {"policy_loss": float(policy_loss.item()), "value_loss": float(value_loss.item()),
            "entropy": float(entropy.item())}


def evaluate_greedy(env: Any, net: ActorCritic, seeds: list[int], max_steps: int,
                    device: torch.device) -> list[float]:
    """Returns of the greedy policy on episodes reset with the given seeds."""
    net.eval()
    try:
        return [rollout(env, net, s, max_steps, device, greedy=True).total_return for s in seeds]
    finally:
        net.train()
