"""JWT minting, API key management, revocation, hashed storage and the environment admin key."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

from agent_support import admin_key_of
from envelope import assert_envelope
from flask_jwt_extended import create_access_token, decode_token


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a key or token."""
    return {"Authorization": f"Bearer {token}"}


def mint(client, headers, permissions=None, **extra):
    """POST /api/auth/token and return the response."""
    body = dict(extra)
    if permissions is not None:
        body["permissions"] = permissions
    return client.post("/api/auth/token", json=body, headers=headers)


def create_key_via_api(client, auth_headers, name: str, permissions: list[str]) -> dict:
    """Create a key through the admin API and return the reply body (which holds the secret)."""
    response = client.post("/api/v4/auth/keys", json={"name": name, "permissions": permissions},
                           headers=auth_headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- tokens -------------------------------------------------------------------------------------


def test_admin_mints_a_token_with_the_requested_permissions(client, auth_headers):
    response = mint(client, auth_headers, ["read"], agent_id="agent-123")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_in", "permissions"}
    assert body["permissions"] == ["read"]
    assert body["expires_in"] == 3600
    assert body["token"].count(".") == 2


def test_token_expires_in_follows_config(app_factory):
    app = app_factory(JWT_EXPIRES_SECONDS=60)
    key = admin_key_of(app)
    body = mint(app.test_client(), bearer(key), ["read"]).get_json()
    assert body["expires_in"] == 60
    with app.app_context():
        claims = decode_token(body["token"])
    assert claims["exp"] - claims["iat"] == 60


def test_minted_token_authenticates(client, auth_headers):
    token = mint(client, auth_headers, ["read"]).get_json()["token"]
    response = client.get("/api/stats", headers=bearer(token))
    assert response.status_code == 200
    assert "agent_id" in response.get_json()


def test_read_token_carries_only_read(client, auth_headers):
    token = mint(client, auth_headers, ["read"]).get_json()["token"]
    assert client.get("/api/v4/stats", headers=bearer(token)).status_code == 200
    assert_envelope(client.get("/api/v4/auth/keys", headers=bearer(token)), 403, "FORBIDDEN")
    body = {"name": "x", "permissions": ["read"]}
    response = client.post("/api/v4/auth/keys", json=body, headers=bearer(token))
    assert_envelope(response, 403, "FORBIDDEN")


def test_admin_token_can_reach_admin_endpoints(client, auth_headers):
    token = mint(client, auth_headers, ["admin"]).get_json()["token"]
    assert client.get("/api/v4/auth/keys", headers=bearer(token)).status_code == 200


def test_write_request_implies_read_but_not_admin(client, auth_headers):
    permissions = mint(client, auth_headers, ["write"]).get_json()["permissions"]
    assert "write" in permissions and "read" in permissions
    assert "admin" not in permissions


def test_read_key_cannot_mint_a_write_token(client, read_headers):
    body = assert_envelope(mint(client, read_headers, ["write"]), 403, "FORBIDDEN")
    assert "write" in body["details"]["permissions"]
    assert_envelope(mint(client, read_headers, ["admin"]), 403, "FORBIDDEN")


def test_token_without_requested_permissions_inherits_the_callers(client, read_headers):
    response = mint(client, read_headers)
    assert response.status_code == 200
    assert response.get_json()["permissions"] == ["read"]


def test_token_minted_from_a_token_cannot_escalate(client, auth_headers):
    read_token = mint(client, auth_headers, ["read"]).get_json()["token"]
    assert_envelope(mint(client, bearer(read_token), ["admin"]), 403, "FORBIDDEN")
    assert mint(client, bearer(read_token), ["read"]).status_code == 200


def test_anonymous_caller_cannot_mint(client):
    assert_envelope(mint(client, {}, ["read"]), 401, "UNAUTHORIZED")


def test_expired_token_is_rejected(app_factory):
    app = app_factory(JWT_EXPIRES_SECONDS=60)
    client = app.test_client()
    with app.app_context():
        # key:1 is the admin key created at first start.
        expired = create_access_token(identity="key:1", additional_claims={"permissions": ["read"]},
                                      expires_delta=timedelta(seconds=-5))
        fresh = create_access_token(identity="key:1", additional_claims={"permissions": ["read"]},
                                    expires_delta=timedelta(seconds=60))
    assert client.get("/api/stats", headers=bearer(fresh)).status_code == 200
    body = assert_envelope(client.get("/api/stats", headers=bearer(expired)), 401, "UNAUTHORIZED")
    assert body["error"] == "Invalid or expired credentials"


def test_token_signed_by_another_instance_is_rejected(app_factory):
    first, second = app_factory(), app_factory()
    key = admin_key_of(first)
    token = mint(first.test_client(), bearer(key), ["admin"]).get_json()["token"]
    # Both instances have a key:1 admin row; only the signature tells them apart.
    assert first.test_client().get("/api/stats", headers=bearer(token)).status_code == 200
    assert_envelope(second.test_client().get("/api/stats", headers=bearer(token)), 401, "UNAUTHORIZED")


def test_tampered_token_is_rejected(client, auth_headers):
    token = mint(client, auth_headers, ["read"]).get_json()["token"]
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    assert_envelope(client.get("/api/stats", headers=bearer(tampered)), 401, "UNAUTHORIZED")


def test_token_for_env_admin_is_rejected_when_no_env_admin_is_configured(app):
    with app.app_context():
        token = create_access_token(identity="env-admin", additional_claims={"permissions": ["admin"]})
    response = app.test_client().get("/api/stats", headers=bearer(token))
    assert_envelope(response, 401, "UNAUTHORIZED")


def test_token_for_an_unknown_key_id_is_rejected(app):
    with app.app_context():
        token = create_access_token(identity="key:999", additional_claims={"permissions": ["read"]})
    assert_envelope(app.test_client().get("/api/stats", headers=bearer(token)), 401, "UNAUTHORIZED")


def test_token_claims_are_capped_by_the_keys_permissions(app, make_key):
    """A token whose claims exceed its key's permissions acts with the key's permissions only."""
    make_key(["read"], "reader")  # key:2 (key:1 is the admin key)
    with app.app_context():
        token = create_access_token(identity="key:2",
                                    additional_claims={"permissions": ["read", "write", "admin"]})
    client = app.test_client()
    assert client.get("/api/stats", headers=bearer(token)).status_code == 200
    assert_envelope(client.get("/api/v4/auth/keys", headers=bearer(token)), 403, "FORBIDDEN")


# --- keys ---------------------------------------------------------------------------------------


def test_admin_creates_a_key_that_authenticates_with_its_permissions(client, auth_headers):
    created = create_key_via_api(client, auth_headers, "ci-reader", ["read"])
    assert created["name"] == "ci-reader"
    assert created["permissions"] == ["read"]
    assert created["revoked"] is False
    assert created["key"].startswith(created["prefix"])
    assert client.get("/api/stats", headers=bearer(created["key"])).status_code == 200
    assert_envelope(client.get("/api/v4/auth/keys", headers=bearer(created["key"])), 403, "FORBIDDEN")


def test_keys_are_served_on_the_seed_path_too(client, auth_headers):
    body = {"name": "seed", "permissions": ["write"]}
    response = client.post("/api/auth/keys", json=body, headers=auth_headers)
    assert response.status_code == 201
    names = [k["name"] for k in client.get("/api/auth/keys", headers=auth_headers).get_json()["keys"]]
    assert "seed" in names


def test_write_key_cannot_create_or_list_keys(client, write_headers):
    assert_envelope(client.get("/api/v4/auth/keys", headers=write_headers), 403, "FORBIDDEN")
    body = {"name": "x", "permissions": ["admin"]}
    response = client.post("/api/v4/auth/keys", json=body, headers=write_headers)
    assert_envelope(response, 403, "FORBIDDEN")


def test_key_list_never_returns_a_secret(client, auth_headers, admin_key):
    created = create_key_via_api(client, auth_headers, "listed", ["write"])
    response = client.get("/api/v4/auth/keys", headers=auth_headers)
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert {"admin", "listed"} <= {k["name"] for k in keys}
    for entry in keys:
        assert "key" not in entry and "key_hash" not in entry
    text = response.get_data(as_text=True)
    assert created["key"] not in text
    assert admin_key not in text
    assert hashlib.sha256(created["key"].encode()).hexdigest() not in text


def test_keys_are_stored_hashed(app, client, auth_headers, admin_key):
    created = create_key_via_api(client, auth_headers, "stored", ["read"])
    db_file = Path(app.instance_path) / "agent.db"
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT * FROM api_keys").fetchall()
        hashes = {row[0] for row in conn.execute("SELECT key_hash FROM api_keys")}
    dump = repr(rows)
    for raw in (created["key"], admin_key):
        assert raw not in dump
        assert hashlib.sha256(raw.encode()).hexdigest() in hashes


def test_create_key_rejects_unknown_permission(client, auth_headers):
    body = {"name": "x", "permissions": ["root"]}
    response = client.post("/api/v4/auth/keys", json=body, headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"].startswith("permissions")


def test_revoking_a_key_kills_the_key_and_its_tokens(client, auth_headers):
    created = create_key_via_api(client, auth_headers, "doomed", ["write"])
    token = mint(client, bearer(created["key"]), ["read"]).get_json()["token"]
    assert client.get("/api/stats", headers=bearer(created["key"])).status_code == 200
    assert client.get("/api/stats", headers=bearer(token)).status_code == 200

    response = client.delete(f"/api/v4/auth/keys/{created['id']}", headers=auth_headers)
    assert response.status_code == 200
    assert response.get_json()["revoked"] is True

    for credential in (created["key"], token):
        body = assert_envelope(client.get("/api/stats", headers=bearer(credential)), 401, "UNAUTHORIZED")
        assert body["error"] == "Invalid or expired credentials"
    listed = {k["id"]: k for k in client.get("/api/v4/auth/keys", headers=auth_headers).get_json()["keys"]}
    assert listed[created["id"]]["revoked"] is True


def test_revoking_twice_is_harmless(client, auth_headers):
    created = create_key_via_api(client, auth_headers, "twice", ["read"])
    for _ in range(2):
        assert client.delete(f"/api/auth/keys/{created['id']}", headers=auth_headers).status_code == 200


def test_revoking_an_unknown_key_is_not_found(client, auth_headers):
    assert_envelope(client.delete("/api/v4/auth/keys/9999", headers=auth_headers), 404, "NOT_FOUND")


def test_write_key_cannot_revoke(client, auth_headers, write_headers):
    created = create_key_via_api(client, auth_headers, "victim", ["read"])
    response = client.delete(f"/api/v4/auth/keys/{created['id']}", headers=write_headers)
    assert_envelope(response, 403, "FORBIDDEN")
    assert client.get("/api/stats", headers=bearer(created["key"])).status_code == 200


def test_revocations_are_audited(app, client, auth_headers):
    created = create_key_via_api(client, auth_headers, "audited", ["read"])
    client.delete(f"/api/v4/auth/keys/{created['id']}", headers=auth_headers)
    with sqlite3.connect(Path(app.instance_path) / "agent.db") as conn:
        actions = [row[0] for row in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["api_key.create", "api_key.revoke"]


# --- the environment admin key ------------------------------------------------------------------

ENV_ADMIN_KEY = "env-admin-key-0123456789abcdef"


def test_env_admin_key_is_an_admin_and_no_key_file_is_written(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_ADMIN_API_KEY", ENV_ADMIN_KEY)
    app = app_factory()
    assert not (Path(app.instance_path) / "admin_api_key").exists()
    client = app.test_client()
    assert client.get("/api/v4/auth/keys", headers=bearer(ENV_ADMIN_KEY)).get_json()["keys"] == []
    created = create_key_via_api(client, bearer(ENV_ADMIN_KEY), "made-by-env-admin", ["read"])
    assert client.get("/api/stats", headers=bearer(created["key"])).status_code == 200
    assert_envelope(client.get("/api/stats", headers=bearer(ENV_ADMIN_KEY + "x")), 401, "UNAUTHORIZED")


def test_env_admin_key_mints_working_admin_tokens(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_ADMIN_API_KEY", ENV_ADMIN_KEY)
    client = app_factory().test_client()
    token = mint(client, bearer(ENV_ADMIN_KEY), ["admin"]).get_json()["token"]
    assert client.get("/api/v4/auth/keys", headers=bearer(token)).status_code == 200


def test_env_admin_tokens_die_when_the_env_key_is_removed(app_factory, monkeypatch, tmp_path):
    instance = str(tmp_path / "shared-instance")
    monkeypatch.setenv("ULTIMATE_AGENT_ADMIN_API_KEY", ENV_ADMIN_KEY)
    first = app_factory(INSTANCE_PATH=instance)
    token = mint(first.test_client(), bearer(ENV_ADMIN_KEY), ["admin"]).get_json()["token"]
    monkeypatch.delenv("ULTIMATE_AGENT_ADMIN_API_KEY")
    restarted = app_factory(INSTANCE_PATH=instance)
    assert_envelope(restarted.test_client().get("/api/stats", headers=bearer(token)), 401, "UNAUTHORIZED")
