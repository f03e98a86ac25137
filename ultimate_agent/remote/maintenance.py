"""clear_cache: the inference result cache and torch's caches."""

from __future__ import annotations

import gc
from typing import Any

import psutil
from flask import Flask

from .registry import Command


def clear_cache(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """Drop cached predictions, collect garbage and release torch's cached CUDA memory; report what went."""
    import torch

    process = psutil.Process()
    rss_before = process.memory_info().rss
    engine = app.extensions.get("inference_engine")
    entries = engine.cache.clear() if engine is not None else 0
    collected = gc.collect()
    cuda: dict[str, Any] = {"available": torch.cuda.is_available()}
    if cuda["available"]:
        reserved = torch.cuda.memory_reserved()
        torch.cuda.empty_cache()
        cuda.update({"reserved_before_bytes": reserved, "reserved_after_bytes": torch.cuda.memory_reserved(),
                     "freed_bytes": reserved - torch.cuda.memory_reserved()})
    rss_after = process.memory_info().rss
    return {"inference_cache_entries_freed": entries, "gc_objects_collected": collected, "torch_cuda": cuda,
            "process_memory_before_mb": round(rss_before / 2**20, 1),
            "process_memory_after_mb": round(rss_after / 2**20, 1),
            "process_memory_freed_mb": round((rss_before - rss_after) / 2**20, 1)}


COMMANDS = (
    Command("clear_cache", clear_cache, description="Clear the inference cache and torch's caches"),
)
