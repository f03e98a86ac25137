"""Backoff: doubling, capped, jittered delays that never give up."""

from __future__ import annotations

from ultimate_agent.network.backoff import Backoff


def test_delays_double_up_to_the_cap_and_stay_there():
    highest = Backoff(1.0, 8.0, rng=lambda: 1.0)
    assert [highest.next_delay() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    lowest = Backoff(1.0, 8.0, rng=lambda: 0.0)
    assert [lowest.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_jitter_spreads_delays_within_the_upper_half():
    backoff = Backoff(2.0, 300.0)
    delays = []
    for _ in range(200):
        backoff.failures = 3
        delays.append(backoff.next_delay())
    assert all(8.0 <= d <= 16.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 150  # agents that lost the same node do not retry together


def test_reset_starts_over_and_many_failures_do_not_overflow():
    backoff = Backoff(2.0, 300.0, rng=lambda: 1.0)
    backoff.failures = 100_000
    assert backoff.next_delay() == 300.0
    backoff.reset()
    assert backoff.next_delay() == 2.0
