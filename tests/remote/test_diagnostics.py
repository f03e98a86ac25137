"""run_diagnostics checks real parts; monitor_resources samples for the asked time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import torch

from ultimate_agent.extensions import db


def test_diagnostics_check_every_part_with_a_verdict_and_detail(app, remote):
    result = remote("run_diagnostics")["result"]
    checks = result["checks"]
    assert set(checks) == {"database", "disk", "chain", "torch", "gpu", "models", "network"}
    assert all(check["status"] in ("pass", "fail") and check["detail"] for check in checks.values())
    assert checks["database"]["status"] == "pass" and checks["database"]["detail"] == "integrity_check: ok"
    assert checks["torch"]["status"] == "pass"
    assert checks["chain"] == {**checks["chain"], "status": "fail", "detail": "chain service not configured"}
    assert checks["gpu"]["status"] == ("pass" if torch.cuda.is_available() else "fail")
    assert checks["network"]["status"] == "fail" and checks["network"]["registered"] is False
    assert set(result["failed"]) == {name for name, check in checks.items() if check["status"] == "fail"}


def test_diagnostics_use_the_chain_and_network_services_when_they_run(app, remote):
    """Stand-ins for the chain and network node services (other modules, not running in this test)."""

    class Chain:
        def diagnose(self):
            return {"status": "pass", "detail": "block 42, contracts deployed"}

    class Network:
        def status(self):
            return {"node_url": "http://node", "registered": True, "network_status": "connected"}

    app.extensions["chain"] = Chain()
    app.extensions["network_client"] = Network()
    try:
        checks = remote("run_diagnostics")["result"]["checks"]
    finally:
        del app.extensions["chain"], app.extensions["network_client"]
    assert checks["chain"]["status"] == "pass" and checks["chain"]["detail"] == "block 42, contracts deployed"
    assert checks["network"]["status"] == "pass" and "connected" in checks["network"]["detail"]


def test_a_damaged_database_fails_the_integrity_check(app, remote):
    db_file = Path(app.instance_path) / "agent.db"
    conn = sqlite3.connect(db_file)
    conn.execute("CREATE TABLE filler (x TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("z" * 500,) for _ in range(400)])
    conn.execute("CREATE INDEX filler_x ON filler (x)")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'filler_x'").fetchone()[0]
    conn.close()
    with app.app_context():
        db.engine.dispose()  # no pooled connection keeps the undamaged pages cached
    with db_file.open("r+b") as handle:  # scribble over the index's root page header
        handle.seek((root - 1) * page_size)
        handle.write(b"\x0d" + b"\xff" * 63)
    check = remote("run_diagnostics")["result"]["checks"]["database"]
    assert check["status"] == "fail" and check["detail"] != "integrity_check: ok"


def test_monitor_resources_returns_a_series_over_the_duration(remote):
    result = remote("monitor_resources", duration=0.4, interval=0.1)["result"]
    assert result["samples"] == 5 and len(result["series"]) == 5
    assert 0.35 <= result["elapsed"] < 2.0
    stamps = [point["timestamp"] for point in result["series"]]
    assert stamps == sorted(stamps)
    assert all(point["process_memory_mb"] > 0 for point in result["series"])
    summary = result["summary"]["process_memory_mb"]
    assert summary["min"] <= summary["avg"] <= summary["max"]
