"""Connected Socket.IO clients, with the per-address cap."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from ..security.auth import Principal


@dataclass(frozen=True)
class Connection:
    """One connected client."""

    sid: str
    address: str
    principal: Principal


class ConnectionRegistry:
    """Thread-safe map of sid -> Connection that refuses an address past its cap."""

    def __init__(self, per_address_limit: int) -> None:
        self.per_address_limit = per_address_limit
        self._lock = threading.Lock()
        self._by_sid: dict[str, Connection] = {}
        self._per_address: Counter[str] = Counter()

    def add(self, sid: str, address: str, principal: Principal) -> bool:
        """Register a connection; False when the address already has its maximum."""
        with self._lock:
            if self._per_address[address] >= self.per_address_limit:
                return False
            self._by_sid[sid] = Connection(sid, address, principal)
            self._per_address[address] += 1
            return True

    def remove(self, sid: str) -> None:
        """Forget a connection (idempotent)."""
        with self._lock:
            connection = self._by_sid.pop(sid, None)
            if connection is not None:
                self._per_address[connection.address] -= 1
                if self._per_address[connection.address] <= 0:
                    del self._per_address[connection.address]

    def get(self, sid: str) -> Connection | None:
        """The connection with this sid, if connected."""
        return self._by_sid.get(sid)

    def count(self) -> int:
        """How many clients are connected."""
        return len(self._by_sid)
