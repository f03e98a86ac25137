"""Exponential backoff with jitter for retrying the network node."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays that double per consecutive failure up to a cap, with "equal jitter"; never gives up.

    Each delay is drawn from [d/2, d] where d = min(maximum, initial * factor**failures): half of it
    keeps retries spaced out, the random half keeps many agents that lost the same node from
    retrying in lock-step.
    """

    def __init__(self, initial: float, maximum: float, factor: float = 2.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.initial = float(initial)
        self.maximum = float(maximum)
        self.factor = float(factor)
        self.failures = 0
        self._rng = rng

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # min() before the power would overflow after ~1000 failures; the exponent is capped instead.
        exponent = min(self.failures, 64)
        return min(self.maximum, self.initial * self.factor ** exponent)

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next attempt."""
        ceiling = self.ceiling()
        self.failures += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        """Forget the failures after a success."""
        self.failures = 0
