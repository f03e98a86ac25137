"""The factory's wiring: version mounts, the OpenAPI document, migrations and SQLite settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from ultimate_agent.app import MIGRATIONS_DIR

SEED_TABLES = {
    "task_records", "performance_metrics", "earnings", "ai_training_sessions", "api_keys", "audit_log",
}


def migration_head() -> str:
    """The newest revision in the migrations folder."""
    script = ScriptDirectory(MIGRATIONS_DIR)
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations must have one head, found {heads}"
    return heads[0]


def tables(db_file: Path) -> set[str]:
    """Names of the tables in a SQLite file."""
    with sqlite3.connect(db_file) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def spec(client, auth_headers) -> dict:
    """The app's OpenAPI document."""
    response = client.get("/api/openapi.json", headers=auth_headers)
    assert response.status_code == 200
    return response.get_json()


# --- versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "v4"), [
    ("/api/stats", "/api/v4/stats"),
    ("/api/v3/stats/enhanced", "/api/v4/stats/enhanced"),
    ("/api/system", "/api/v4/system"),
    ("/api/capabilities", "/api/v4/capabilities"),
    ("/api/activity", "/api/v4/activity"),
    ("/api/network", "/api/v4/network"),
    ("/api/health", "/api/v4/health"),
    ("/api/performance/metrics", "/api/v4/performance/metrics"),
    ("/api/database/stats", "/api/v4/database/stats"),
])
def test_seed_path_and_v4_mirror_answer_alike(client, auth_headers, seed, v4):
    old, new = client.get(seed, headers=auth_headers), client.get(v4, headers=auth_headers)
    assert old.status_code == new.status_code == 200
    assert set(old.get_json()) == set(new.get_json())


def test_enhanced_stats_match_the_seed_shape(client, auth_headers, app):
    body = client.get("/api/v3/stats/enhanced", headers=auth_headers).get_json()
    assert {"agent_id", "running", "registered", "current_tasks", "stats", "ai_status", "blockchain_status",
            "modular_architecture"} <= set(body)
    assert body["agent_id"] == app.config["AGENT_ID"]


def test_every_documented_seed_path_has_a_v4_mirror(spec):
    paths = spec["paths"]
    unversioned = [p for p in paths if p.startswith("/api/") and not p.startswith("/api/v4/")]
    assert len(unversioned) >= 10
    missing = []
    for path in unversioned:
        mirror = v4_mirror(path)
        if mirror not in paths or set(paths[mirror]) != set(paths[path]):
            missing.append(path)
    assert missing == []


def v4_mirror(path: str) -> str:
    """The /api/v4 path of a seed path (`/api/v3/x` -> `/api/v4/x`)."""
    rest = path[len("/api"):]
    for legacy in ("/v1/", "/v3/"):
        if rest.startswith(legacy):
            rest = "/" + rest[len(legacy):]
    return "/api/v4" + rest


def test_v4_mirrors_answer_every_get_like_the_seed_path(client, auth_headers, spec):
    checked, failures = 0, {}
    for path, operations in spec["paths"].items():
        seeded = path.startswith("/api/") and not path.startswith("/api/v4/")
        if not seeded or "get" not in operations or "{" in path:
            continue
        seed = client.get(path, headers=auth_headers)
        mirror = client.get(v4_mirror(path), headers=auth_headers)
        checked += 1
        if seed.status_code != mirror.status_code or seed.status_code in (404, 405):
            failures[path] = (seed.status_code, mirror.status_code)
        elif seed.status_code == 200 and seed.is_json and set(seed.get_json()) != set(mirror.get_json()):
            failures[path] = "different keys"
    assert checked >= 9
    assert failures == {}


def test_legacy_prefix_is_not_invented_for_unversioned_paths(client, auth_headers):
    assert client.get("/api/v3/stats", headers=auth_headers).status_code == 404
    assert client.get("/api/v1/stats/enhanced", headers=auth_headers).status_code == 404


# --- OpenAPI and docs ---------------------------------------------------------------------------


def test_openapi_document_is_openapi_3_with_bearer_security(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, scheme in schemes.items() if scheme.get("type") == "http"
              and scheme.get("scheme") == "bearer"]
    assert bearer
    assert {bearer[0]: []} in spec["security"]


def test_openapi_documents_the_error_envelope(spec):
    schemas = spec["components"]["schemas"]
    envelope = next((s for s in schemas.values() if set(s.get("properties", {})) ==
                     {"success", "error", "error_code", "details"}), None)
    assert envelope is not None


def test_openapi_document_needs_a_credential(client, read_headers):
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/api/openapi.json", headers=read_headers).status_code == 200


def test_docs_page_is_public_html_that_loads_the_spec(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "openapi.json" in response.get_data(as_text=True)


# --- database -----------------------------------------------------------------------------------


def test_empty_database_file_is_migrated_to_head(app_factory, tmp_path):
    db_file = tmp_path / "empty.db"
    db_file.touch()
    assert db_file.stat().st_size == 0
    app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}")
    assert SEED_TABLES | {"alembic_version"} <= tables(db_file)
    with sqlite3.connect(db_file) as conn:
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    assert versions == [migration_head()]


def test_first_migration_is_0001():
    revisions = {script.revision: script for script in ScriptDirectory(MIGRATIONS_DIR).walk_revisions()}
    assert "0001" in revisions
    assert revisions["0001"].down_revision is None


def test_default_database_lives_in_the_instance_folder(app):
    db_file = Path(app.instance_path) / "agent.db"
    assert tables(db_file) >= SEED_TABLES


def test_sqlite_uses_wal_journal(app):
    db_file = Path(app.instance_path) / "agent.db"
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    from ultimate_agent.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_restart_on_a_migrated_database_keeps_its_rows(app_factory, tmp_path):
    instance = tmp_path / "restart"
    first = app_factory(INSTANCE_PATH=str(instance))
    from ultimate_agent.security.keys import create_key

    with first.app_context():
        create_key("survivor", ["read"], actor="test")
    second = app_factory(INSTANCE_PATH=str(instance))
    with second.app_context():
        from ultimate_agent.security.keys import list_keys

        assert "survivor" in [key.name for key in list_keys()]


def test_database_stats_list_the_tables(client, auth_headers):
    response = client.get("/api/database/stats", headers=auth_headers)
    assert response.status_code == 200
    assert "api_keys" in str(response.get_json())
