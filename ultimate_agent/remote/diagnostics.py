"""run_diagnostics (database, disk, chain, torch, GPU, models, network) and monitor_resources."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from statistics import fmean
from typing import Any

from flask import Flask
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..extensions import db
from ..models.base import isoformat
from ..monitoring.status import network_state
from .registry import Command

# Below either figure the disk check fails: tasks write checkpoints and models there.
MIN_FREE_DISK_MB = 1024
MIN_FREE_DISK_PERCENT = 5.0
MAX_MONITOR_SECONDS = 300


def _result(passed: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"status": "pass" if passed else "fail", "detail": detail, **extra}


def check_database(app: Flask) -> dict[str, Any]:
    """SQLite's integrity check (or a round trip on other databases)."""
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            rows = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            return _result(rows == ["ok"], "integrity_check: " + "; ".join(rows[:5]), dialect="sqlite")
        value = connection.exec_driver_sql("SELECT 1").scalar()
        return _result(value == 1, "SELECT 1 round trip", dialect=db.engine.dialect.name)


def check_disk(app: Flask) -> dict[str, Any]:
    """Free space where the instance folder lives."""
    usage = shutil.disk_usage(app.instance_path)
    free_mb = usage.free / 2**20
    free_percent = usage.free / usage.total * 100
    passed = free_mb >= MIN_FREE_DISK_MB and free_percent >= MIN_FREE_DISK_PERCENT
    return _result(passed, f"{free_mb:.0f} MB free ({free_percent:.1f}%)", free_mb=round(free_mb, 1),
                   free_percent=round(free_percent, 2))


def check_chain(app: Flask) -> dict[str, Any]:
    """The chain service's own diagnosis; a fail when no chain service runs."""
    chain = app.extensions.get("chain")
    if chain is None or not hasattr(chain, "diagnose"):
        return _result(False, "chain service not configured")
    report = chain.diagnose()
    return _result(report.get("status") == "pass", str(report.get("detail", "")))


def check_torch(app: Flask) -> dict[str, Any]:
    """A small computation whose answer is known."""
    import torch

    a = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    value = float((a @ a.T).trace())
    expected = float(sum(x * x for x in range(16)))
    return _result(value == expected, f"torch {torch.__version__}: matmul check {value:.0f} == {expected:.0f}",
                   threads=torch.get_num_threads())


def check_gpu(app: Flask) -> dict[str, Any]:
    """A computation on the CUDA device; a fail when there is none."""
    import torch

    if not torch.cuda.is_available():
        return _result(False, "no CUDA device visible to torch; tasks run on the CPU",
                       gpu_enabled=app.config["GPU_ENABLED"])
    x = torch.ones(256, 256, device="cuda")
    value = float((x @ x).sum().item())
    name = torch.cuda.get_device_name(0)
    return _result(value == 256.0 ** 3, f"{name}: matmul check ok" if value == 256.0 ** 3 else f"{name}: wrong result",
                   devices=torch.cuda.device_count(), gpu_enabled=app.config["GPU_ENABLED"])


def check_models(app: Flask) -> dict[str, Any]:
    """Every registered model loaded (or still loading), none failed."""
    registry = app.extensions.get("model_registry")
    if registry is None:
        return _result(False, "model registry not running")
    models = registry.describe_all()
    failed = {m["name"]: m["error"] for m in models if m["status"] == "failed"}
    counts: dict[str, int] = {}
    for model in models:
        counts[model["status"]] = counts.get(model["status"], 0) + 1
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no models registered"
    return _result(not failed, detail if not failed else f"failed: {failed}", models=counts)


def check_network(app: Flask) -> dict[str, Any]:
    """Registration with the network node."""
    state = network_state()
    registered = bool(state.get("registered"))
    return _result(registered, f"{state.get('network_status')} ({state.get('node_url')})",
                   registered=registered)


CHECKS: dict[str, Callable[[Flask], dict[str, Any]]] = {
    "database": check_database,
    "disk": check_disk,
    "chain": check_chain,
    "torch": check_torch,
    "gpu": check_gpu,
    "models": check_models,
    "network": check_network,
}


def run_diagnostics(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """Run every check; one that raises is a fail with the error as its detail."""
    checks = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            outcome = check(app)
        except Exception as exc:
            outcome = _result(False, f"{type(exc).__name__}: {exc}")
        outcome["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        checks[name] = outcome
    failed = [name for name, outcome in checks.items() if outcome["status"] == "fail"]
    return {"checks": checks, "passed": len(checks) - len(failed), "failed": failed}


class MonitorParams(Schema):
    """monitor_resources parameters."""

    duration = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=MAX_MONITOR_SECONDS),
                            metadata={"description": f"Seconds to sample (at most {MAX_MONITOR_SECONDS})"})
    interval = fields.Float(load_default=1.0, validate=validate.Range(min=0.05, max=MAX_MONITOR_SECONDS))

    @validates_schema
    def _interval_within_duration(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["interval"] > data["duration"]:
            raise ValidationError("must not exceed duration", field_name="interval")


def _point(sample: Any) -> dict[str, Any]:
    snap = sample.snapshot
    return {"timestamp": isoformat(snap.timestamp), "cpu_percent": snap.cpu_percent,
            "memory_percent": snap.memory_percent, "process_memory_mb": snap.process_memory_mb,
            "process_cpu_percent": snap.process_cpu_percent, "disk_percent": snap.disk_percent,
            "gpu_percent": snap.gpu.utilization_percent, "health_score": sample.score}


def monitor_resources(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Sample the machine every `interval` seconds for `duration` seconds; the series and its summary."""
    monitor = app.extensions["system_monitor"]
    duration, interval = params["duration"], params["interval"]
    ticker = threading.Event()  # never set: its wait() keeps the sampling cadence
    started = time.monotonic()
    series = [_point(monitor.refresh())]
    next_at = started + interval
    while next_at <= started + duration + 1e-9:
        ticker.wait(max(0.0, next_at - time.monotonic()))
        series.append(_point(monitor.refresh()))
        next_at += interval
    summary = {}
    for key in ("cpu_percent", "memory_percent", "process_memory_mb"):
        values = [point[key] for point in series]
        summary[key] = {"min": min(values), "max": max(values), "avg": round(fmean(values), 2)}
    return {"duration": duration, "interval": interval, "samples": len(series), "series": series,
            "summary": summary, "elapsed": round(time.monotonic() - started, 3)}


COMMANDS = (
    Command("run_diagnostics", run_diagnostics,
            description="Check database, disk, chain node, torch, GPU, model registry and network node"),
    Command("monitor_resources", monitor_resources, MonitorParams,
            description="Sample CPU, memory, disk and GPU for a while and return the series"),
)
