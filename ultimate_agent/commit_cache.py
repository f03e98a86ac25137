"""Read caches that stay exact: every database commit of this process invalidates them.

Hot read paths (`/api/stats`, the API-key lookup behind every request) would otherwise run the same
queries hundreds of times a second while nothing changed. A short time-to-live also bounds how long
a write by another process (the CLI revoking a key) can go unseen.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_generation = itertools.count(1)
_current = 0
_installed = False
_install_lock = threading.Lock()


def _bump(_session: Session) -> None:
    global _current
    _current = next(_generation)


def install_commit_tracking() -> None:
    """Count commits of every session (registered once per process)."""
    global _installed
    with _install_lock:
        if not _installed:
            event.listen(Session, "after_commit", _bump)
            _installed = True


class CommitCache:
    """Values keyed by argument, recomputed after any commit or when older than `ttl` seconds."""

    def __init__(self, ttl: float = 2.0, max_entries: int = 1024) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[int, float, Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value for `key`, or compute and remember it."""
        generation = _current
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and entry[0] == generation and now - entry[1] < self.ttl:
            return entry[2]
        value = compute()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (generation, now, value)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
