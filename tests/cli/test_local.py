"""The `ultimate-agent` console commands against a real instance folder."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from ultimate_agent.cli import main


@pytest.fixture
def instance(tmp_path) -> Path:
    """The instance folder the CLI and the apps share."""
    return tmp_path / "cli-instance"


@pytest.fixture
def cli(instance):
    """Run a CLI command against `instance`; returns the click Result."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env={"ULTIMATE_AGENT_INSTANCE_PATH": str(instance)},
                             catch_exceptions=False)

    return run


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}


def create(cli, name: str, *permissions: str) -> dict:
    """`keys create --json` and the parsed output."""
    args = ["keys", "create", "--name", name, "--json"]
    for permission in permissions:
        args += ["--permission", permission]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_keys_create_prints_the_secret_once_as_json(cli):
    info = create(cli, "ci", "read")
    assert info["name"] == "ci"
    assert info["permissions"] == ["read"]
    assert info["revoked"] is False
    assert info["key"].startswith(info["prefix"])
    assert isinstance(info["id"], int)


def test_keys_create_expands_implied_permissions(cli):
    assert create(cli, "writer", "write")["permissions"] == ["read", "write"]
    assert create(cli, "boss", "admin")["permissions"] == ["read", "write", "admin"]
    assert create(cli, "default")["permissions"] == ["read"]


def test_keys_create_refuses_unknown_permission(cli):
    result = cli("keys", "create", "--name", "x", "--permission", "root")
    assert result.exit_code != 0
    assert "root" in result.output


def test_keys_create_human_output_shows_the_key(cli, instance):
    result = cli("keys", "create", "--name", "human", "--permission", "write")
    assert result.exit_code == 0
    assert "human" in result.stdout
    listed = json.loads(cli("keys", "list", "--json").stdout)
    prefix = next(k["prefix"] for k in listed if k["name"] == "human")
    assert f"Key (shown once): {prefix}" in result.stdout


def test_cli_key_authenticates_against_an_app_on_the_same_instance(cli, instance, app_factory):
    info = create(cli, "shared", "read")
    app = app_factory(INSTANCE_PATH=str(instance))
    client = app.test_client()
    assert client.get("/api/stats", headers=bearer(info["key"])).status_code == 200
    assert client.get("/api/v4/auth/keys", headers=bearer(info["key"])).status_code == 403


def test_keys_list_json_never_shows_secrets(cli, instance):
    info = create(cli, "listed", "write")
    result = cli("keys", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    by_name = {row["name"]: row for row in rows}
    assert {"admin", "listed"} <= set(by_name)
    assert by_name["listed"]["permissions"] == ["read", "write"]
    assert all("key" not in row for row in rows)
    assert info["key"] not in result.stdout
    assert (instance / "admin_api_key").read_text().strip() not in result.stdout
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)


def test_keys_list_table(cli):
    create(cli, "tabled", "read")
    result = cli("keys", "list")
    assert result.exit_code == 0
    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["ID", "NAME", "PREFIX", "PERMISSIONS", "REVOKED"]
    assert any(row.split()[1] == "tabled" and row.split()[-1] == "no" for row in rows)


def test_keys_revoke_stops_the_key_in_a_running_app(cli, instance, app_factory):
    info = create(cli, "doomed", "read")
    app = app_factory(INSTANCE_PATH=str(instance))
    client = app.test_client()
    token = client.post("/api/auth/token", json={}, headers=bearer(info["key"])).get_json()["token"]
    assert client.get("/api/stats", headers=bearer(info["key"])).status_code == 200

    result = cli("keys", "revoke", str(info["id"]))
    assert result.exit_code == 0
    assert f"Revoked key {info['id']}" in result.stdout

    for credential in (info["key"], token):
        response = client.get("/api/stats", headers=bearer(credential))
        assert response.status_code == 401
        assert response.get_json()["error_code"] == "UNAUTHORIZED"
    rows = {row["id"]: row for row in json.loads(cli("keys", "list", "--json").stdout)}
    assert rows[info["id"]]["revoked"] is True


def test_keys_revoke_unknown_id_fails(cli):
    result = cli("keys", "revoke", "9999")
    assert result.exit_code != 0
    assert "9999" in result.output


def test_keys_revoke_needs_a_numeric_id(cli):
    result = cli("keys", "revoke", "abc")
    assert result.exit_code != 0


def test_cli_stores_only_hashes_and_audits(cli, instance):
    info = create(cli, "audited", "read")
    cli("keys", "revoke", str(info["id"]))
    with sqlite3.connect(instance / "agent.db") as conn:
        assert info["key"] not in repr(conn.execute("SELECT * FROM api_keys").fetchall())
        audit = conn.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()
    assert ("cli", "api_key.create") in audit
    assert ("cli", "api_key.revoke") in audit


def test_db_upgrade_succeeds_on_a_new_and_an_existing_instance(cli, instance):
    for _ in range(2):
        result = cli("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "up to date" in result.stdout
    with sqlite3.connect(instance / "agent.db") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"api_keys", "task_records", "alembic_version"} <= names


def test_first_cli_run_creates_the_instance_secrets(cli, instance):
    cli("keys", "list", "--json")
    for name in ("secret_key", "jwt_secret_key", "agent_id", "admin_api_key"):
        assert (instance / name).exists(), name


def test_cli_admin_key_is_printed_to_stderr_not_stdout(cli, instance):
    result = cli("keys", "list", "--json")
    key = (instance / "admin_api_key").read_text().strip()
    assert key in result.stderr
    assert key not in result.stdout
    json.loads(result.stdout)  # stdout stays machine-readable


def test_help_lists_the_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "keys", "db", "status", "tasks", "infer", "wallet", "tx", "remote", "backup",
                    "restore"):
        assert command in result.output
