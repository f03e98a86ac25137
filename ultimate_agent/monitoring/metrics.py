"""Prometheus metrics: request counters and latencies, Socket.IO gauges, live system and task gauges."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PREFIX = "ultimate_agent"


class LiveCollector(Collector):
    """Reads system and task figures at scrape time (the scrape runs in an app context)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the live gauges."""
        from .status import monitor_sample, task_counts, uptime_seconds

        sample = monitor_sample()
        snap = sample.snapshot
        for name, value, text in (
            ("cpu_percent", snap.cpu_percent, "System CPU use"),
            ("memory_percent", snap.memory_percent, "System memory use"),
            ("disk_percent", snap.disk_percent, "Disk use of the instance folder's volume"),
            ("gpu_available", float(snap.gpu.available), "1 when a GPU is present"),
            ("gpu_percent", snap.gpu.utilization_percent, "GPU utilisation"),
            ("process_memory_mb", snap.process_memory_mb, "Agent resident memory, MB"),
            ("process_threads", snap.process_threads, "Agent threads"),
            ("health_score", sample.score, "Overall health score 0-100"),
            ("uptime_seconds", uptime_seconds(), "Seconds since the agent started"),
        ):
            yield GaugeMetricFamily(f"{PREFIX}_{name}", text, value=value)
        tasks = GaugeMetricFamily(f"{PREFIX}_tasks", "Tasks by state", labels=["state"])
        for state, count in task_counts().items():
            tasks.add_metric([state], count)
        yield tasks


class AgentMetrics:
    """One registry per app, so several apps (tests) never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(f"{PREFIX}_http_requests", "HTTP requests served",
                                ["method", "endpoint", "status"], registry=self.registry)
        self.latency = Histogram(f"{PREFIX}_http_request_duration_seconds", "HTTP request latency",
                                 ["endpoint"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.socket_connections = Gauge(f"{PREFIX}_socketio_connections", "Connected Socket.IO clients",
                                        registry=self.registry)
        self.socket_events = Counter(f"{PREFIX}_socketio_events_emitted", "Socket.IO events emitted",
                                     ["event"], registry=self.registry)
        self.socket_refused = Counter(f"{PREFIX}_socketio_connections_refused", "Socket.IO connections refused",
                                      ["reason"], registry=self.registry)
        self.registry.register(LiveCollector())

    def install(self, app: Flask) -> None:
        """Time and count every request."""

        def start_timer() -> None:
            g._request_started = time.perf_counter()

        def record(response):
            endpoint = request.endpoint or "unmatched"
            started = g.pop("_request_started", None)
            if started is not None:
                self.latency.labels(endpoint).observe(time.perf_counter() - started)
            self.requests.labels(request.method, endpoint, str(response.status_code)).inc()
            return response

        app.before_request(start_timer)
        app.after_request(record)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
