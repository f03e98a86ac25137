"""GPU probe: the honest no-GPU answer on this machine, and the NVML reading path.

This machine has no NVIDIA GPU, so the NVML reading path runs against a fake `pynvml` module object
(FakeNVML below) with the same function names and error class; everything else is real.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from agent_support import admin_key_of

from ultimate_agent.monitoring.gpu import NO_GPU, GpuProbe, GpuReading


def _nvml_works() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:
        return False


def _torch_sees_cuda() -> bool:
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


needs_no_gpu = pytest.mark.skipif(_nvml_works() or _torch_sees_cuda(), reason="a GPU is present here")


class FakeNVMLError(Exception):
    """Stands in for pynvml.NVMLError."""


class FakeNVML:
    """A fake `pynvml` module: this machine has no NVIDIA driver (see the module docstring)."""

    NVMLError = FakeNVMLError
    NVML_TEMPERATURE_GPU = 0

    def __init__(self, count=1, name=b"NVIDIA RTX 3080", used=4096 * 2**20, total=10240 * 2**20,
                 utilization=67, temperature=72, utilization_fails=False, temperature_fails=False,
                 count_fails=False):
        self.count, self.name, self.used, self.total = count, name, used, total
        self.utilization, self.temperature = utilization, temperature
        self.utilization_fails, self.temperature_fails, self.count_fails = (
            utilization_fails, temperature_fails, count_fails)
        self.handles_asked: list[int] = []
        self.temperature_sensors: list[int] = []

    def nvmlDeviceGetCount(self):  # noqa: N802  (pynvml's names)
        if self.count_fails:
            raise FakeNVMLError("driver went away")
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index):  # noqa: N802
        self.handles_asked.append(index)
        return f"handle-{index}"

    def nvmlDeviceGetName(self, handle):  # noqa: N802
        return self.name

    def nvmlDeviceGetMemoryInfo(self, handle):  # noqa: N802
        return SimpleNamespace(used=self.used, total=self.total, free=self.total - self.used)

    def nvmlDeviceGetUtilizationRates(self, handle):  # noqa: N802
        if self.utilization_fails:
            raise FakeNVMLError("not supported")
        return SimpleNamespace(gpu=self.utilization, memory=10)

    def nvmlDeviceGetTemperature(self, handle, sensor):  # noqa: N802
        self.temperature_sensors.append(sensor)
        if self.temperature_fails:
            raise FakeNVMLError("not supported")
        return self.temperature


# -- the NVML reading path (fake module) -------------------------------------------------------------------


def test_read_nvml_reads_the_first_gpu():
    nvml = FakeNVML(count=2)
    reading = GpuProbe()._read_nvml(nvml)
    assert reading == GpuReading(available=True, name="NVIDIA RTX 3080", count=2,
                                 utilization_percent=67.0, memory_used_mb=4096.0, memory_total_mb=10240.0,
                                 temperature=72.0, source="nvml")
    assert nvml.handles_asked == [0]
    assert nvml.temperature_sensors == [FakeNVML.NVML_TEMPERATURE_GPU]
    assert isinstance(reading.utilization_percent, float)
    assert isinstance(reading.temperature, float)


def test_read_nvml_accepts_str_names():
    """nvidia-ml-py >= 11.5 returns str, older versions bytes."""
    assert GpuProbe()._read_nvml(FakeNVML(name="NVIDIA H100")).name == "NVIDIA H100"


def test_read_nvml_rounds_memory_to_a_tenth_of_a_megabyte():
    reading = GpuProbe()._read_nvml(FakeNVML(used=int(1.26 * 2**20), total=8 * 2**30))
    assert reading.memory_used_mb == 1.3
    assert reading.memory_total_mb == 8192.0


def test_read_nvml_with_no_devices_is_no_gpu():
    assert GpuProbe()._read_nvml(FakeNVML(count=0)) is NO_GPU


def test_read_nvml_survives_unsupported_utilization_and_temperature():
    reading = GpuProbe()._read_nvml(FakeNVML(utilization_fails=True, temperature_fails=True))
    assert reading.available is True
    assert reading.utilization_percent == 0.0
    assert reading.temperature is None
    assert reading.memory_total_mb == 10240.0


def test_read_uses_an_initialised_nvml():
    probe = GpuProbe()
    probe._nvml = FakeNVML()  # what _init_nvml stores after a successful nvmlInit()
    reading = probe.read()
    assert reading.available is True
    assert reading.source == "nvml"


@needs_no_gpu
def test_failed_nvml_read_falls_back_honestly():
    probe = GpuProbe()
    probe._nvml = FakeNVML(count_fails=True)
    reading = probe.read()
    assert reading.available is False
    assert reading.source == "none"


def test_reading_as_dict():
    data = GpuProbe()._read_nvml(FakeNVML()).as_dict()
    assert data["available"] is True
    assert data["name"] == "NVIDIA RTX 3080"
    assert set(data) == {"available", "name", "count", "utilization_percent", "memory_used_mb",
                         "memory_total_mb", "temperature", "source"}


# -- no GPU on this machine: the real probe says so ---------------------------------------------------------


@needs_no_gpu
def test_real_probe_reports_no_gpu():
    probe = GpuProbe()
    reading = probe.read()
    assert reading == NO_GPU
    assert reading.available is False
    # NVML's failure is remembered: the next read does not retry nvmlInit.
    assert probe._nvml_failed is True
    assert probe.read() == NO_GPU


def _admin(app) -> dict[str, str]:
    key = admin_key_of(app)
    return {"Authorization": f"Bearer {key}"}


@needs_no_gpu
def test_api_reports_no_gpu_honestly(app, client):
    headers = _admin(app)
    perf = client.get("/api/performance/metrics", headers=headers).get_json()
    assert perf["gpu"] == {"available": False, "name": None, "count": 0, "memory_used_mb": 0,
                           "memory_total_mb": 0, "temperature": None}
    assert perf["gpu_percent"] == 0.0
    assert client.get("/api/capabilities", headers=headers).get_json()["gpu_available"] is False
    enhanced = client.get("/api/v3/stats/enhanced", headers=headers).get_json()
    assert enhanced["ai_status"]["gpu_available"] is False
    health = client.get("/api/health").get_json()
    assert "gpu" not in health["components"]


# -- a GPU through the API (fake NVML module inside the real monitor) ---


def test_api_reports_an_nvml_gpu(app, client):
    """The real app and monitor with the fake `pynvml` module in the probe: the GPU reaches every report."""
    probe = app.extensions["system_monitor"].reader.gpu
    probe._nvml = FakeNVML(used=4096 * 2**20 + 300 * 2**10, utilization=40, temperature=70)
    app.extensions["system_monitor"].refresh()
    headers = _admin(app)
    perf = client.get("/api/performance/metrics", headers=headers).get_json()
    assert perf["gpu"] == {"available": True, "name": "NVIDIA RTX 3080", "count": 1, "memory_used_mb": 4096,
                           "memory_total_mb": 10240, "temperature": 70}
    assert type(perf["gpu"]["memory_used_mb"]) is int
    assert type(perf["gpu"]["temperature"]) is int
    assert perf["gpu_percent"] == 40.0
    health = client.get("/api/health").get_json()
    # 60 % headroom, 10 °C over 60 costs 25 points.
    assert health["components"]["gpu"] == 35.0
    assert client.get("/api/capabilities", headers=headers).get_json()["gpu_available"] is True
    enhanced = client.get("/api/v3/stats/enhanced", headers=headers).get_json()
    assert enhanced["ai_status"]["gpu_available"] is True


def test_hot_gpu_raises_a_temperature_alert(app_factory):
    """Fake `pynvml` module (no GPU here) reporting 85 °C: the configured 80 °C warning fires."""
    app = app_factory(ALERT_THRESHOLDS={"gpu_temperature": {"warning": 80.0, "critical": 90.0}})
    app.extensions["system_monitor"].reader.gpu._nvml = FakeNVML(temperature=85)
    body = app.test_client().get("/api/health").get_json()
    assert body["alerts"] == [{"type": "gpu_temperature", "severity": "warning",
                               "message": "GPU temperature above 80°C", "value": 85.0, "threshold": 80.0}]
