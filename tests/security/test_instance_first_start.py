"""First start: instance secrets are created once, private, stable, and the admin key stays out of logs."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

import pytest

SECRET_FILES = ("secret_key", "jwt_secret_key", "agent_id", "admin_api_key")


def read(instance: Path, name: str) -> str:
    """A secret file's value."""
    return (instance / name).read_text(encoding="utf-8").strip()


def test_first_start_creates_private_secret_files(app):
    instance = Path(app.instance_path)
    for name in SECRET_FILES:
        path = instance / name
        assert path.is_file(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert read(instance, name), name


def test_secrets_are_distinct_and_strong(app):
    instance = Path(app.instance_path)
    secret, jwt_secret, admin = (read(instance, n) for n in ("secret_key", "jwt_secret_key", "admin_api_key"))
    assert len({secret, jwt_secret, admin}) == 3
    assert len(secret) >= 32 and len(jwt_secret) >= 32 and len(admin) >= 32
    assert app.config["SECRET_KEY"] == secret
    assert app.config["JWT_SECRET_KEY"] == jwt_secret


def test_agent_id_format_and_config(app):
    agent_id = read(Path(app.instance_path), "agent_id")
    assert re.fullmatch(r"ultimate-[0-9a-f]{8}", agent_id)
    assert app.config["AGENT_ID"] == agent_id


def test_agent_id_is_reported_by_the_api(client, auth_headers, app):
    assert client.get("/api/stats", headers=auth_headers).get_json()["agent_id"] == app.config["AGENT_ID"]


def test_instances_get_different_identities(app_factory):
    first, second = app_factory(), app_factory()
    assert first.config["AGENT_ID"] != second.config["AGENT_ID"]
    assert first.config["JWT_SECRET_KEY"] != second.config["JWT_SECRET_KEY"]


def test_second_start_on_the_same_instance_keeps_identity_and_secrets(app_factory, tmp_path):
    instance = tmp_path / "kept"
    first = app_factory(INSTANCE_PATH=str(instance))
    before = {name: read(instance, name) for name in SECRET_FILES}
    key = before["admin_api_key"]
    token = first.test_client().post("/api/auth/token", json={"permissions": ["read"]},
                                     headers={"Authorization": f"Bearer {key}"}).get_json()["token"]

    second = app_factory(INSTANCE_PATH=str(instance))
    assert {name: read(instance, name) for name in SECRET_FILES} == before
    assert second.config["AGENT_ID"] == first.config["AGENT_ID"] == before["agent_id"]
    client = second.test_client()
    # The admin key and tokens minted before the restart still work.
    assert client.get("/api/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with second.app_context():
        from ultimate_agent.security.keys import list_keys

        assert [k.name for k in list_keys()].count("admin") == 1


def test_admin_key_is_printed_once_on_first_start_only(app_factory, tmp_path, capsys):
    instance = tmp_path / "printed"
    app_factory(INSTANCE_PATH=str(instance))
    key = read(instance, "admin_api_key")
    first = capsys.readouterr()
    assert first.err.count(key) == 1
    assert key not in first.out
    app_factory(INSTANCE_PATH=str(instance))
    assert key not in capsys.readouterr().err


def test_loose_secret_file_permissions_are_tightened(app_factory, tmp_path):
    instance = tmp_path / "loose"
    app_factory(INSTANCE_PATH=str(instance))
    os.chmod(instance / "jwt_secret_key", 0o644)
    app_factory(INSTANCE_PATH=str(instance))
    assert stat.S_IMODE((instance / "jwt_secret_key").stat().st_mode) == 0o600


def test_preexisting_secret_files_are_used(app_factory, tmp_path):
    instance = tmp_path / "seeded"
    instance.mkdir()
    (instance / "agent_id").write_text("ultimate-0badcafe\n")
    app = app_factory(INSTANCE_PATH=str(instance))
    assert app.config["AGENT_ID"] == "ultimate-0badcafe"


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_admin_key_never_reaches_the_logs(app_factory, tmp_path, caplog, level):
    caplog.set_level(logging.DEBUG)
    app = app_factory(INSTANCE_PATH=str(tmp_path / "logged"), LOG_LEVEL=level)
    key = read(Path(app.instance_path), "admin_api_key")
    client = app.test_client()
    # Use the key the ways a client would, including ways that fail and get logged as errors.
    client.get("/api/stats", headers={"Authorization": f"Bearer {key}"})
    client.get("/api/v4/auth/keys", headers={"Authorization": f"Bearer {key}"})
    client.post("/api/auth/token", json={"permissions": ["root"]}, headers={"Authorization": f"Bearer {key}"})
    client.get("/api/nowhere", headers={"Authorization": f"Bearer {key}"})
    assert caplog.records, "expected the app to log something at start-up"
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key not in str(record.args)
    assert key not in caplog.text
