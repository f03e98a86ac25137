"""System snapshot: what psutil and the GPU probe read right now."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psutil

from ..models.base import utcnow
from .gpu import GpuProbe, GpuReading


@dataclass(frozen=True)
class SystemSnapshot:
    """Machine and agent-process load at one moment."""

    timestamp: datetime
    cpu_percent: float
    memory_percent: float
    memory_used_mb: float
    memory_total_mb: float
    disk_percent: float
    bytes_sent: int
    bytes_recv: int
    process_cpu_percent: float
    process_memory_mb: float
    process_threads: int
    process_open_files: int
    gpu: GpuReading
    extra: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Flat values the health score and alerts read."""
        return {
            "cpu_percent": self.cpu_percent,
            "memory_percent": self.memory_percent,
            "disk_percent": self.disk_percent,
            "gpu_available": self.gpu.available,
            "gpu_percent": self.gpu.utilization_percent,
            "gpu_temperature": self.gpu.temperature,
        }


class SystemReader:
    """Takes snapshots; keeps the psutil objects whose CPU counters measure between calls."""

    def __init__(self, disk_path: str) -> None:
        self.disk_path = disk_path
        self.process = psutil.Process()
        self.gpu = GpuProbe()
        # psutil's cpu_percent(None) measures since the previous call: prime both counters now.
        psutil.cpu_percent(interval=None)
        self.process.cpu_percent(interval=None)

    def snapshot(self) -> SystemSnapshot:
        """Read the machine now (non-blocking: CPU figures cover the time since the last snapshot)."""
        memory = psutil.virtual_memory()
        net = psutil.net_io_counters()
        with self.process.oneshot():
            process_cpu = self.process.cpu_percent(interval=None)
            process_memory = self.process.memory_info().rss
            threads = self.process.num_threads()
            open_files = self.process.num_fds() if hasattr(self.process, "num_fds") else len(
                self.process.open_files())
        return SystemSnapshot(
            timestamp=utcnow(),
            cpu_percent=float(psutil.cpu_percent(interval=None)),
            memory_percent=float(memory.percent),
            memory_used_mb=round((memory.total - memory.available) / 2**20, 1),
            memory_total_mb=round(memory.total / 2**20, 1),
            disk_percent=float(psutil.disk_usage(self.disk_path).percent),
            bytes_sent=int(net.bytes_sent) if net else 0,
            bytes_recv=int(net.bytes_recv) if net else 0,
            process_cpu_percent=float(process_cpu),
            process_memory_mb=round(process_memory / 2**20, 1),
            process_threads=threads,
            process_open_files=open_files,
            gpu=self.gpu.read(),
        )


def platform_info() -> dict[str, str]:
    """Static facts about the host."""
    return {
        "platform": platform.system(),
        "python_version": platform.python_version(),
        "architecture": platform.machine(),
        "hostname": platform.node(),
    }
