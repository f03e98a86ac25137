"""Federated learning on digits: non-IID client partitions, local training and weighted FedAvg."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .datasets import DIGITS_CLASSES, ClassificationSplit, digits_split


def load_digits_splits(seed: int, test_fraction: float = 0.2, val_fraction: float = 0.0) -> ClassificationSplit:
    """Stratified train/(validation)/test splits of the digits, pixels / 16 (no fitted scaler to leak)."""
    return digits_split(seed, test_fraction=test_fraction, val_fraction=val_fraction)


def shard_partition(labels: np.ndarray, num_clients: int, shards_per_client: int, seed: int) -> list[np.ndarray]:
    """Non-IID split (McMahan et al.): sort by label, cut into shards, deal each client a few at random."""
    order = np.argsort(labels, kind="stable")
    shards = np.array_split(order, num_clients * shards_per_client)
    dealt = np.random.default_rng(seed).permutation(len(shards))
    return [np.sort(np.concatenate([shards[s] for s in dealt[c::num_clients]])) for c in range(num_clients)]


def dirichlet_partition(labels: np.ndarray, num_clients: int, alpha: float, seed: int) -> list[np.ndarray]:
    """Non-IID split: each class's samples are divided between clients in Dirichlet(alpha) proportions."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(num_clients)]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cuts = (np.cumsum(rng.dirichlet([alpha] * num_clients))[:-1] * len(members)).astype(int)
        for client, piece in enumerate(np.split(members, cuts)):
            parts[client].extend(piece.tolist())
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]


def class_counts(labels: np.ndarray, num_classes: int = DIGITS_CLASSES) -> list[int]:
    """How many samples of each class `labels` holds."""
    return [int(c) for c in np.bincount(labels, minlength=num_classes)]


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int, generator: torch.Generator, check: Callable[[], None]) -> float:
    """One shuffled pass over (x, y); calls `check` before every batch; returns the mean loss."""
    model.train()
    order = torch.randperm(len(y), generator=generator).to(x.device)
    total, seen = 0.0, 0
    for start in range(0, len(y), batch_size):
        check()
        idx = order[start:start + batch_size]
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.item()) * len(idx)
        seen += len(idx)
    return total / max(seen, 1)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of samples the model classifies correctly."""
    model.eval()
    if len(y) == 0:
        return 0.0
    return float((model(x).argmax(dim=1) == y).float().mean().item())


def local_update(global_model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int,
                 lr: float, momentum: float, generator: torch.Generator,
                 check: Callable[[], None]) -> tuple[dict[str, torch.Tensor], float]:
    """Train a private copy of the global model on one client's data; its weights and last-epoch loss."""
    model = copy.deepcopy(global_model)  # each client thread owns its copy: no shared parameters
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss = 0.0
    for _ in range(epochs):
        loss = train_epoch(model, optimizer, x, y, batch_size, generator, check)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, loss


def fedavg(states: list[dict[str, torch.Tensor]], weights: list[int]) -> dict[str, torch.Tensor]:
    """Average client weights in proportion to their sample counts."""
    total = float(sum(weights))
    return {key: sum(state[key] * (w / total) for state, w in zip(states, weights, strict=True))
            for key in states[0]}
