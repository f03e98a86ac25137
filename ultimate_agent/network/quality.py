"""Connection quality to the network node, from measured round-trip times and failures."""

from __future__ import annotations

import statistics
import threading
from collections import deque
from typing import Any

WINDOW = 20  # the most recent exchanges that count

# (rating, highest median round trip in ms, highest failure rate); the first row that fits wins.
RATINGS = (
    ("excellent", 100.0, 0.0),
    ("good", 300.0, 0.1),
    ("fair", 1000.0, 0.25),
)


class ConnectionQuality:
    """Keeps the last WINDOW exchanges with the node (round trip in seconds, or None for a failure)."""

    def __init__(self, window: int = WINDOW) -> None:
        self._samples: deque[float | None] = deque(maxlen=window)
        self._lock = threading.Lock()

    def record_success(self, round_trip: float) -> None:
        """Count an exchange that got an answer after `round_trip` seconds."""
        with self._lock:
            self._samples.append(max(0.0, round_trip))

    def record_failure(self) -> None:
        """Count an exchange that got no usable answer (refused, timed out, server error)."""
        with self._lock:
            self._samples.append(None)

    def summary(self) -> dict[str, Any]:
        """`rating` (excellent, good, fair, poor, unknown), median round trip in ms and failure rate."""
        with self._lock:
            samples = list(self._samples)
        if not samples:
            return {"rating": "unknown", "round_trip_ms": None, "failure_rate": None}
        times = [s for s in samples if s is not None]
        failure_rate = round(1 - len(times) / len(samples), 3)
        median_ms = round(statistics.median(times) * 1000, 1) if times else None
        return {"rating": rate(median_ms, failure_rate), "round_trip_ms": median_ms, "failure_rate": failure_rate}


def rate(median_ms: float | None, failure_rate: float) -> str:
    """The rating for a median round trip and a failure rate over the window."""
    if median_ms is None or failure_rate >= 0.5:
        return "poor"
    for name, max_ms, max_failures in RATINGS:
        if median_ms <= max_ms and failure_rate <= max_failures:
            return name
    return "poor"
