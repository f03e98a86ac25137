"""Fixtures for the runner tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .runner_support import single_torch_thread


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for the test (tiny models train fastest so, and results do not depend on cores)."""
    with single_torch_thread():
        yield
