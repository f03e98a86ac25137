"""GPU probe: NVML (nvidia-ml-py) first, torch.cuda when torch is already loaded; honest when absent."""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuReading:
    """One reading of the first GPU (and how many there are)."""

    available: bool
    name: str | None = None
    count: int = 0
    utilization_percent: float = 0.0
    memory_used_mb: float = 0.0
    memory_total_mb: float = 0.0
    temperature: float | None = None
    source: str = "none"

    def as_dict(self) -> dict[str, Any]:
        """The reading as plain data."""
        return asdict(self)


NO_GPU = GpuReading(available=False)


class GpuProbe:
    """Reads GPU state; initialises NVML once and remembers when it cannot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nvml: Any = None
        self._nvml_failed = False

    def _init_nvml(self) -> Any:
        if self._nvml is not None or self._nvml_failed:
            return self._nvml
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
        except Exception as exc:  # NVMLError or a missing driver library: no NVIDIA GPU here
            log.info("NVML unavailable (%s); GPU reported as absent unless torch sees CUDA", exc)
            self._nvml_failed = True
        return self._nvml

    def _read_nvml(self, nvml: Any) -> GpuReading:
        count = nvml.nvmlDeviceGetCount()
        if count == 0:
            return NO_GPU
        handle = nvml.nvmlDeviceGetHandleByIndex(0)
        name = nvml.nvmlDeviceGetName(handle)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        try:
            utilization = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        except nvml.NVMLError:
            utilization = 0.0
        try:
            temperature = float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        except nvml.NVMLError:
            temperature = None
        return GpuReading(
            available=True,
            name=name.decode() if isinstance(name, bytes) else str(name),
            count=count,
            utilization_percent=utilization,
            memory_used_mb=round(memory.used / 2**20, 1),
            memory_total_mb=round(memory.total / 2**20, 1),
            temperature=temperature,
            source="nvml",
        )

    @staticmethod
    def _read_torch() -> GpuReading:
        # Only when a task already loaded torch: importing it here would cost seconds on the request path.
        torch = sys.modules.get("torch")
        cuda = getattr(torch, "cuda", None)  # None while another thread is still importing torch
        if cuda is None or not cuda.is_available():
            return NO_GPU
        free, total = torch.cuda.mem_get_info(0)
        return GpuReading(
            available=True,
            name=torch.cuda.get_device_name(0),
            count=torch.cuda.device_count(),
            memory_used_mb=round((total - free) / 2**20, 1),
            memory_total_mb=round(total / 2**20, 1),
            source="torch",
        )

    def read(self) -> GpuReading:
        """Read the GPU now."""
        with self._lock:
            nvml = self._init_nvml()
            if nvml is not None:
                try:
                    return self._read_nvml(nvml)
                except Exception as exc:
                    log.warning("NVML read failed: %s", exc)
            return self._read_torch()
