"""Inference engine: validates input against the model, predicts, and caches results (LRU)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from ..errors import InvalidRequest
from .registry import ModelRegistry

MAX_BATCH = 1024
_thread_state = threading.local()


def _single_torch_thread() -> None:
    """Request threads run inference on one torch thread each.

    Every thread that calls into torch gets its own OpenMP pool; with dozens of server threads, pools
    of several threads each would oversubscribe the cores and slow the task workers down.
    """
    if not getattr(_thread_state, "configured", False):
        import torch

        torch.set_num_threads(1)
        _thread_state.configured = True


class ResultCache:
    """A thread-safe LRU of predictions keyed by (model, version, options..., input)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> dict[str, Any] | None:
        """The cached prediction, refreshed as most recently used."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple, value: dict[str, Any]) -> None:
        """Remember a prediction, evicting the least recently used beyond `size`."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self, model: str | None = None) -> int:
        """Drop every entry (or one model's); returns how many went."""
        with self._lock:
            if model is None:
                count = len(self._items)
                self._items.clear()
                return count
            doomed = [key for key in self._items if key[0] == model]
            for key in doomed:
                del self._items[key]
            return len(doomed)

    def __len__(self) -> int:
        return len(self._items)


class InferenceEngine:
    """Runs `POST /api/ai/inference`: one item or a batch, with per-item caching."""

    def __init__(self, registry: ModelRegistry, cache_size: int) -> None:
        self.registry = registry
        self.cache = ResultCache(cache_size)
        registry.on_change.append(lambda name: self.cache.clear(name))

    def infer(self, model_name: str, value: Any, options: dict[str, Any]) -> dict[str, Any]:
        """Predict for one input or a list of inputs; reply in the seed's shape."""
        started = time.perf_counter()
        served = self.registry.served(model_name)
        batch, item_keys, payload = served.prepare(value)
        if batch and not 1 <= len(item_keys) <= MAX_BATCH:
            raise InvalidRequest("Invalid batch size", {"field": "input",
                                                        "message": f"A batch holds 1 to {MAX_BATCH} inputs"})
        details = bool(options.get("return_details", False))
        prefix = (model_name, served.version, details, options.get("max_length"))
        keys = [(*prefix, item_key) for item_key in item_keys]
        results: list[dict[str, Any] | None] = [self.cache.get(key) for key in keys]
        missing = [i for i, result in enumerate(results) if result is None]
        if missing:
            _single_torch_thread()
            fresh = served.predict(payload, missing, details, options)
            for i, prediction in zip(missing, fresh, strict=True):
                results[i] = prediction
                self.cache.put(keys[i], prediction)
        confidence_wanted = options.get("return_confidence", True)
        shaped = [self._shape(r, confidence_wanted) for r in results]
        reply: dict[str, Any] = {"success": True, "model_name": model_name, "model_version": served.version}
        if batch:
            reply.update({"predictions": shaped, "count": len(shaped)})
        else:
            reply.update(shaped[0])
        reply["processing_time"] = round(time.perf_counter() - started, 6)
        reply["cached"] = not missing
        return reply

    @staticmethod
    def _shape(result: dict[str, Any], confidence_wanted: bool) -> dict[str, Any]:
        shaped = dict(result)
        if not confidence_wanted:
            shaped.pop("confidence", None)
        return shaped
