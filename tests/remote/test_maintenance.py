"""clear_cache empties the inference cache and reports what went."""

from __future__ import annotations


def test_clear_cache_empties_the_inference_cache_and_reports_it(app, remote):
    cache = app.extensions["inference_engine"].cache
    for n in range(5):
        cache.put(("model", 1, False, None, n), {"prediction": n})
    assert len(cache) == 5
    result = remote("clear_cache")["result"]
    assert result["inference_cache_entries_freed"] == 5 and len(cache) == 0
    assert result["process_memory_before_mb"] > 0 and "available" in result["torch_cuda"]
    assert remote("clear_cache")["result"]["inference_cache_entries_freed"] == 0
