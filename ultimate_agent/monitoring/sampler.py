"""System monitor: samples the machine, scores its health, raises alerts, stores history."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask

from ..extensions import db
from ..models import PerformanceMetric
from ..models.base import utcnow
from .health import component_scores, evaluate_alerts, health_status, overall_score
from .system import SystemReader, SystemSnapshot

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class HealthSample:
    """A snapshot with its health score, component scores and active alerts."""

    snapshot: SystemSnapshot
    components: dict[str, float]
    score: float
    alerts: list[dict[str, Any]]
    status: str


class SystemMonitor:
    """Owns the sampling thread; request handlers read its latest sample (refreshed when stale)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.reader = SystemReader(app.instance_path)
        self.sample_interval = float(app.config["MONITOR_SAMPLE_INTERVAL"])
        self.store_interval = float(app.config["MONITOR_STORE_INTERVAL"])
        self.retention = timedelta(hours=float(app.config["MONITOR_RETENTION_HOURS"]))
        self._lock = threading.Lock()
        self._latest: HealthSample | None = None
        self._latest_at = 0.0
        self._active_alerts: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_stored = 0.0
        self._last_pruned = 0.0

    # -- sampling -----------------------------------------------------------------------------

    def current(self) -> HealthSample:
        """The latest sample, taking a fresh one when it is older than the sample interval."""
        latest = self._latest
        if latest is not None and time.monotonic() - self._latest_at < self.sample_interval:
            return latest
        return self.refresh(max_age=self.sample_interval)

    def refresh(self, max_age: float = 0.0) -> HealthSample:
        """Sample now (unless another thread just did), update alerts and announce the ones that started."""
        with self._lock:
            # Requests that found the sample stale together: the first one samples, the rest reuse it.
            if max_age and self._latest is not None and time.monotonic() - self._latest_at < max_age:
                return self._latest
            snapshot = self.reader.snapshot()
            values = snapshot.values()
            components = component_scores(values)
            alerts = evaluate_alerts(values, self.app.config["ALERT_THRESHOLDS"])
            score = overall_score(components)
            sample = HealthSample(snapshot, components, score, alerts, health_status(score, alerts))
            keys = {(alert["type"], alert["severity"]) for alert in alerts}
            started = [alert for alert in alerts if (alert["type"], alert["severity"]) not in self._active_alerts]
            self._active_alerts = keys
            self._latest, self._latest_at = sample, time.monotonic()
        for alert in started:
            self._announce_alert(alert)
        return sample

    def _announce_alert(self, alert: dict[str, Any]) -> None:
        from ..realtime.bus import emit_event

        log.warning("System alert [%s]: %s (%.1f)", alert["severity"], alert["message"], alert["value"])
        emit_event(self.app, "system_alert", {**alert, "timestamp": utcnow().isoformat() + "Z"})

    # -- history ------------------------------------------------------------------------------

    def store(self, sample: HealthSample, task_count: int) -> PerformanceMetric:
        """Write one history row (call inside an app context)."""
        snap = sample.snapshot
        row = PerformanceMetric(
            timestamp=snap.timestamp,
            cpu_percent=snap.cpu_percent,
            memory_percent=snap.memory_percent,
            gpu_percent=snap.gpu.utilization_percent,
            disk_percent=snap.disk_percent,
            task_count=task_count,
            health_score=sample.score,
            efficiency_score=sample.score,
        )
        db.session.add(row)
        db.session.commit()
        return row

    def prune(self) -> int:
        """Delete history older than the retention window; returns rows removed."""
        cutoff = utcnow() - self.retention
        result = db.session.execute(db.delete(PerformanceMetric).where(PerformanceMetric.timestamp < cutoff))
        db.session.commit()
        return result.rowcount or 0

    # -- thread -------------------------------------------------------------------------------

    def tick(self) -> None:
        """One sampler step: sample, broadcast live data, store and prune when due."""
        from ..realtime.bus import emit_event
        from .status import real_time_data, stats

        with self.app.app_context():
            sample = self.refresh()
            live = real_time_data(sample)
            emit_event(self.app, "real_time_data", live)
            emit_event(self.app, "stats_update", stats())
            now = time.monotonic()
            if now - self._last_stored >= self.store_interval:
                self.store(sample, live["tasks_running"])
                self._last_stored = now
            if now - self._last_pruned >= PRUNE_EVERY_SECONDS:
                self.prune()
                self._last_pruned = now

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("Monitoring sample failed; retrying next interval")
            self._stop.wait(self.sample_interval)

    def start(self) -> None:
        """Start the sampler thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="system-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sampler thread and wait for it."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether the sampler thread is alive."""
        return bool(self._thread and self._thread.is_alive())
