"""Connection quality from measured round trips and failures."""

from __future__ import annotations

import pytest

from ultimate_agent.network.quality import WINDOW, ConnectionQuality


def test_unknown_before_any_exchange():
    assert ConnectionQuality().summary() == {"rating": "unknown", "round_trip_ms": None, "failure_rate": None}


@pytest.mark.parametrize(("round_trips", "failures", "rating"), [
    ([0.02] * 10, 0, "excellent"),
    ([0.2] * 10, 0, "good"),
    ([0.02] * 9, 1, "good"),
    ([0.6] * 10, 0, "fair"),
    ([0.02] * 8, 2, "fair"),
    ([2.0] * 10, 0, "poor"),
    ([0.02] * 5, 5, "poor"),
    ([], 3, "poor"),
])
def test_rating_follows_median_round_trip_and_failure_rate(round_trips, failures, rating):
    quality = ConnectionQuality()
    for rtt in round_trips:
        quality.record_success(rtt)
    for _ in range(failures):
        quality.record_failure()
    assert quality.summary()["rating"] == rating


def test_only_the_recent_window_counts():
    quality = ConnectionQuality()
    for _ in range(WINDOW):
        quality.record_failure()
    for _ in range(WINDOW):
        quality.record_success(0.01)
    assert quality.summary() == {"rating": "excellent", "round_trip_ms": 10.0, "failure_rate": 0.0}
