"""Health scoring and alerts: the pure functions, then the same rules through /api/health on the real disk."""

from __future__ import annotations

import psutil
import pytest

from ultimate_agent.config import DEFAULTS
from ultimate_agent.monitoring.health import (
    component_scores,
    evaluate_alerts,
    health_status,
    overall_score,
)

THRESHOLDS = DEFAULTS["ALERT_THRESHOLDS"]


def values(cpu=7.5, memory=15.0, disk=21.5, gpu_available=False, gpu=0.0, gpu_temperature=None):
    """A snapshot's flat values, as SystemSnapshot.values() gives them."""
    return {"cpu_percent": cpu, "memory_percent": memory, "disk_percent": disk,
            "gpu_available": gpu_available, "gpu_percent": gpu, "gpu_temperature": gpu_temperature}


# -- component scores ---------------------------------------------------------------------------------


def test_components_are_headroom():
    scores = component_scores(values(cpu=7.5, memory=15.0, disk=21.5))
    assert scores == {"cpu": 92.5, "memory": 85.0, "disk": 78.5}


def test_no_gpu_component_without_a_gpu():
    scores = component_scores(values(gpu_available=False, gpu=99.0, gpu_temperature=95.0))
    assert "gpu" not in scores


def test_gpu_component_when_available():
    assert component_scores(values(gpu_available=True, gpu=10.8))["gpu"] == 89.2
    # At or below 60 °C no heat penalty.
    assert component_scores(values(gpu_available=True, gpu=10.8, gpu_temperature=60.0))["gpu"] == 89.2


def test_hot_gpu_loses_points():
    # 70 °C is 10 degrees over 60: 25 points off the 89.2 headroom.
    assert component_scores(values(gpu_available=True, gpu=10.8, gpu_temperature=70.0))["gpu"] == 64.2
    assert component_scores(values(gpu_available=True, gpu=0.0, gpu_temperature=110.0))["gpu"] == 0.0


@pytest.mark.parametrize(("used", "score"), [
    (0.0, 100.0), (100.0, 0.0), (120.0, 0.0), (-3.0, 100.0), (33.33, 66.7),
])
def test_headroom_is_clamped_and_rounded(used, score):
    assert component_scores(values(cpu=used))["cpu"] == score


# -- overall score -------------------------------------------------------------------------------------


def test_overall_score_is_weighted():
    # 0.3 cpu + 0.3 memory + 0.2 disk + 0.2 gpu
    components = {"cpu": 92.5, "memory": 85.0, "disk": 78.5, "gpu": 89.2}
    assert overall_score(components) == 86.8


def test_overall_score_renormalises_without_gpu():
    components = {"cpu": 92.5, "memory": 85.0, "disk": 78.5}
    assert overall_score(components) == pytest.approx((92.5 * 0.3 + 85.0 * 0.3 + 78.5 * 0.2) / 0.8, abs=0.05)
    assert overall_score({"cpu": 50.0, "memory": 50.0, "disk": 50.0}) == 50.0


def test_cpu_weighs_more_than_disk():
    assert overall_score({"cpu": 0.0, "memory": 100.0, "disk": 100.0}) < overall_score(
        {"cpu": 100.0, "memory": 100.0, "disk": 0.0})


# -- status ------------------------------------------------------------------------------------------------

WARNING = {"type": "disk_space", "severity": "warning", "message": "m", "value": 80.0, "threshold": 75.0}
CRITICAL = {**WARNING, "severity": "critical", "threshold": 90.0}


@pytest.mark.parametrize(("score", "alerts", "expected"), [
    (87.5, [], "healthy"),
    (70.0, [], "healthy"),
    (69.9, [], "degraded"),
    (40.0, [], "degraded"),
    (39.9, [], "critical"),
    (95.0, [WARNING], "degraded"),
    (95.0, [CRITICAL], "critical"),
    (95.0, [WARNING, CRITICAL], "critical"),
    (10.0, [WARNING], "critical"),
])
def test_health_status(score, alerts, expected):
    assert health_status(score, alerts) == expected


# -- alerts -----------------------------------------------------------------------------------------------


def test_seed_disk_example():
    alerts = evaluate_alerts(values(disk=78.3), THRESHOLDS)
    assert alerts == [{
        "type": "disk_space",
        "severity": "warning",
        "message": "Disk usage above 75%",
        "value": 78.3,
        "threshold": 75.0,
    }]
    assert type(alerts[0]["threshold"]) is float and type(alerts[0]["value"]) is float


def test_critical_above_the_critical_level():
    (alert,) = evaluate_alerts(values(disk=93.26), THRESHOLDS)
    assert alert["severity"] == "critical"
    assert alert["threshold"] == 90.0
    assert alert["message"] == "Disk usage above 90%"
    assert alert["value"] == 93.3


def test_levels_are_inclusive_and_below_is_quiet():
    assert evaluate_alerts(values(disk=74.9), THRESHOLDS) == []
    assert evaluate_alerts(values(disk=75.0), THRESHOLDS)[0]["severity"] == "warning"
    assert evaluate_alerts(values(disk=90.0), THRESHOLDS)[0]["severity"] == "critical"


def test_each_resource_has_its_alert_type():
    hot = values(cpu=96.0, memory=86.0, disk=10.0, gpu_available=True, gpu_temperature=85.0)
    alerts = evaluate_alerts(hot, THRESHOLDS)
    by_type = {alert["type"]: alert for alert in alerts}
    assert set(by_type) == {"cpu_usage", "memory_usage", "gpu_temperature"}
    assert by_type["cpu_usage"]["severity"] == "critical"
    assert by_type["cpu_usage"]["message"] == "CPU usage above 95%"
    assert by_type["memory_usage"]["severity"] == "warning"
    assert by_type["memory_usage"]["message"] == "Memory usage above 85%"
    assert by_type["gpu_temperature"]["message"] == "GPU temperature above 80°C"


def test_missing_gpu_temperature_raises_no_alert():
    thresholds = {"gpu_temperature": {"warning": 0.0, "critical": 1.0}}
    assert evaluate_alerts(values(gpu_temperature=None), thresholds) == []


def test_unknown_threshold_names_are_ignored():
    assert evaluate_alerts(values(), {"fan_speed": {"warning": 0.0, "critical": 0.0}}) == []


def test_fractional_thresholds_keep_their_digits():
    (alert,) = evaluate_alerts(values(disk=80.0), {"disk": {"warning": 72.5, "critical": 99.0}})
    assert alert["message"] == "Disk usage above 72.5%"
    assert alert["threshold"] == 72.5


# -- through the API, on the real disk ------------------------------------------------------------------


def test_api_reports_a_real_disk_warning(app_factory):
    app = app_factory(ALERT_THRESHOLDS={"disk": {"warning": 0.0, "critical": 100.0}})
    body = app.test_client().get("/api/health").get_json()
    disk_alerts = [alert for alert in body["alerts"] if alert["type"] == "disk_space"]
    assert len(disk_alerts) == 1
    alert = disk_alerts[0]
    assert alert["severity"] == "warning"
    assert alert["threshold"] == 0.0
    assert alert["message"] == "Disk usage above 0%"
    assert alert["value"] == pytest.approx(psutil.disk_usage(app.instance_path).percent, abs=1)
    assert body["status"] in {"degraded", "critical"}
    # Only the disk is configured: no other alert may appear.
    assert {a["type"] for a in body["alerts"]} == {"disk_space"}


def test_api_reports_a_real_disk_critical(app_factory):
    app = app_factory(ALERT_THRESHOLDS={"disk": {"warning": 0.0, "critical": 0.0}})
    body = app.test_client().get("/api/health").get_json()
    (alert,) = body["alerts"]
    assert alert["severity"] == "critical"
    assert body["status"] == "critical"


def test_api_quiet_with_unreachable_thresholds(app_factory):
    unreachable = {"warning": 101.0, "critical": 102.0}
    app = app_factory(ALERT_THRESHOLDS={"cpu": unreachable, "memory": unreachable, "disk": unreachable})
    body = app.test_client().get("/api/health").get_json()
    assert body["alerts"] == []
    assert body["status"] == ("healthy" if body["health_score"] >= 70 else
                              "degraded" if body["health_score"] >= 40 else "critical")
