"""Health score and alerts, computed from a system snapshot and configured thresholds."""

from __future__ import annotations

from typing import Any

# Relative weight of each component in the overall score; a missing GPU drops out.
WEIGHTS = {"cpu": 0.3, "memory": 0.3, "disk": 0.2, "gpu": 0.2}

ALERT_SOURCES = {
    # threshold name: (alert type, label, snapshot field, unit)
    "cpu": ("cpu_usage", "CPU usage", "cpu_percent", "%"),
    "memory": ("memory_usage", "Memory usage", "memory_percent", "%"),
    "disk": ("disk_space", "Disk usage", "disk_percent", "%"),
    "gpu_temperature": ("gpu_temperature", "GPU temperature", "gpu_temperature", "°C"),
}


def _headroom(used_percent: float) -> float:
    return round(max(0.0, min(100.0, 100.0 - used_percent)), 1)


def component_scores(values: dict[str, Any]) -> dict[str, float]:
    """Score each resource 0-100 by its headroom; the GPU only when one is present."""
    scores = {
        "cpu": _headroom(values["cpu_percent"]),
        "memory": _headroom(values["memory_percent"]),
        "disk": _headroom(values["disk_percent"]),
    }
    if values.get("gpu_available"):
        gpu_load = values.get("gpu_percent", 0.0)
        temperature = values.get("gpu_temperature")
        # A hot GPU is unhealthy even when idle: above 60 °C each degree costs 2.5 points.
        heat_penalty = max(0.0, (temperature - 60.0) * 2.5) if temperature is not None else 0.0
        scores["gpu"] = round(max(0.0, _headroom(gpu_load) - heat_penalty), 1)
    return scores


def overall_score(components: dict[str, float]) -> float:
    """Weighted mean of the component scores."""
    total_weight = sum(WEIGHTS[name] for name in components)
    return round(sum(score * WEIGHTS[name] for name, score in components.items()) / total_weight, 1)


def health_status(score: float, alerts: list[dict[str, Any]]) -> str:
    """`healthy`, `degraded` or `critical` from the score and the worst alert."""
    if score < 40 or any(alert["severity"] == "critical" for alert in alerts):
        return "critical"
    if score < 70 or alerts:
        return "degraded"
    return "healthy"


def evaluate_alerts(values: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Alerts for every value above its warning or critical threshold."""
    alerts = []
    for name, levels in thresholds.items():
        if name not in ALERT_SOURCES:
            continue
        alert_type, label, field, unit = ALERT_SOURCES[name]
        value = values.get(field)
        if value is None:
            continue
        severity = "critical" if value >= levels["critical"] else "warning" if value >= levels["warning"] else None
        if severity is None:
            continue
        threshold = float(levels[severity])
        alerts.append({
            "type": alert_type,
            "severity": severity,
            "message": f"{label} above {threshold:g}{unit}",
            "value": round(float(value), 1),
            "threshold": threshold,
        })
    return alerts
