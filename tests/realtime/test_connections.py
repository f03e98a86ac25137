"""ConnectionRegistry: the per-address cap, idempotent removal and counting."""

from __future__ import annotations

import threading

from ultimate_agent.realtime.connections import ConnectionRegistry
from ultimate_agent.security.auth import Principal

ALICE = Principal(subject="key:1", name="alice", permissions=("read",), via="api_key")
ADMIN = Principal(subject="env-admin", name="admin", permissions=("read", "write", "admin"), via="jwt")


def test_add_and_get():
    registry = ConnectionRegistry(per_address_limit=2)
    assert registry.add("sid-1", "10.0.0.1", ALICE) is True
    connection = registry.get("sid-1")
    assert (connection.sid, connection.address, connection.principal) == ("sid-1", "10.0.0.1", ALICE)
    assert registry.get("sid-unknown") is None
    assert registry.count() == 1


def test_cap_refuses_past_the_limit():
    registry = ConnectionRegistry(per_address_limit=3)
    assert [registry.add(f"sid-{n}", "10.0.0.1", ALICE) for n in range(4)] == [True, True, True, False]
    assert registry.count() == 3
    assert registry.get("sid-3") is None


def test_cap_is_per_address():
    registry = ConnectionRegistry(per_address_limit=1)
    assert registry.add("a", "10.0.0.1", ALICE)
    assert not registry.add("b", "10.0.0.1", ADMIN)
    assert registry.add("c", "10.0.0.2", ADMIN)
    assert registry.add("d", "::1", ALICE)
    assert registry.count() == 3


def test_remove_frees_the_slot():
    registry = ConnectionRegistry(per_address_limit=2)
    registry.add("a", "10.0.0.1", ALICE)
    registry.add("b", "10.0.0.1", ALICE)
    assert not registry.add("c", "10.0.0.1", ALICE)
    registry.remove("a")
    assert registry.get("a") is None
    assert registry.add("c", "10.0.0.1", ALICE)
    assert registry.count() == 2


def test_remove_is_idempotent():
    registry = ConnectionRegistry(per_address_limit=2)
    registry.add("a", "10.0.0.1", ALICE)
    registry.add("b", "10.0.0.1", ALICE)
    registry.remove("a")
    registry.remove("a")
    registry.remove("never-connected")
    assert registry.count() == 1
    # A double removal must not hand out an extra slot: one is free, not two.
    assert registry.add("c", "10.0.0.1", ALICE)
    assert not registry.add("d", "10.0.0.1", ALICE)


def test_address_emptied_then_reused():
    registry = ConnectionRegistry(per_address_limit=1)
    registry.add("a", "10.0.0.1", ALICE)
    registry.remove("a")
    assert registry.count() == 0
    assert registry._per_address == {}  # no zero counters pile up for addresses that left
    assert registry.add("b", "10.0.0.1", ALICE)


def test_refused_add_changes_nothing():
    registry = ConnectionRegistry(per_address_limit=1)
    registry.add("a", "10.0.0.1", ALICE)
    assert not registry.add("b", "10.0.0.1", ALICE)
    registry.remove("b")  # the refused sid was never registered
    assert registry.get("a") is not None
    assert registry.count() == 1


def test_concurrent_adds_respect_the_cap():
    registry = ConnectionRegistry(per_address_limit=5)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def connect(n: int) -> None:
        start.wait()
        ok = registry.add(f"sid-{n}", "10.0.0.9", ALICE)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5
    assert registry.count() == 5
