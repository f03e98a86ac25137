"""Rate limits: the seed's 429 envelope and headers, one budget per credential, anonymous ones by address."""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
from agent_support import admin_headers_of

from ultimate_agent.security.keys import create_key


@pytest.fixture
def limited_app(app_factory):
    """An agent allowing 3 API requests per minute per caller."""
    return app_factory(RATE_LIMIT_GENERAL="3 per minute")


def new_key(app, permissions=("read",), name="limited") -> dict[str, str]:
    """Headers of a fresh key on `app`."""
    with app.app_context():
        raw = create_key(name, list(permissions), actor="test")[1]
    return {"Authorization": f"Bearer {raw}"}


def test_fourth_call_in_the_window_is_rate_limited(limited_app):
    client, headers = limited_app.test_client(), new_key(limited_app)
    for _ in range(3):
        assert client.get("/api/stats", headers=headers).status_code == 200
    response = client.get("/api/stats", headers=headers)
    assert response.status_code == 429
    body = response.get_json()
    assert set(body) == {"success", "error", "error_code", "details"}
    assert body["success"] is False
    assert body["error_code"] == "RATE_LIMITED"
    assert body["error"] == "Rate limit exceeded"
    details = body["details"]
    assert details["limit"] == 3
    assert details["window_seconds"] == 60
    assert 0 <= details["retry_after"] <= 60
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", details["reset_time"])
    reset = datetime.fromisoformat(details["reset_time"].replace("Z", "+00:00"))
    assert 0 <= reset.timestamp() - time.time() <= 61
    assert response.headers["Retry-After"] == str(details["retry_after"])
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_successful_responses_carry_rate_limit_headers(limited_app):
    client, headers = limited_app.test_client(), new_key(limited_app)
    remaining = []
    for _ in range(3):
        response = client.get("/api/stats", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Window"] == "60"
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() - 1 <= reset <= time.time() + 61
        assert "Retry-After" not in response.headers
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]


def test_default_limit_is_the_seeds_general_limit(client, auth_headers):
    response = client.get("/api/stats", headers=auth_headers)
    assert response.headers["X-RateLimit-Limit"] == "1000"
    assert response.headers["X-RateLimit-Window"] == "3600"


def test_each_credential_has_its_own_budget(limited_app):
    client = limited_app.test_client()
    first, second = new_key(limited_app, name="first"), new_key(limited_app, name="second")
    for _ in range(3):
        client.get("/api/stats", headers=first)
    assert client.get("/api/stats", headers=first).status_code == 429
    response = client.get("/api/stats", headers=second)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert client.get("/api/stats", headers=admin_headers_of(limited_app)).status_code == 200


def test_budget_follows_the_credential_across_addresses(limited_app):
    client, headers = limited_app.test_client(), new_key(limited_app)
    for index in range(3):
        client.get("/api/stats", headers=headers, environ_base={"REMOTE_ADDR": f"10.0.0.{index + 1}"})
    response = client.get("/api/stats", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 429


def test_tokens_share_the_budget_of_the_key_they_were_minted_from(limited_app):
    """Minting tokens is no way around a key's limit."""
    client, headers = limited_app.test_client(), new_key(limited_app)
    minted = client.post("/api/auth/token", json={"permissions": ["read"]}, headers=headers)
    token = minted.get_json()["token"]
    token_headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/stats", headers=token_headers).status_code == 200
    assert client.get("/api/stats", headers=headers).status_code == 200
    assert client.get("/api/stats", headers=token_headers).status_code == 429


def test_anonymous_callers_are_limited_by_address(limited_app):
    client = limited_app.test_client()
    first = {"REMOTE_ADDR": "192.0.2.10"}
    for _ in range(3):
        assert client.get("/api/health", environ_base=first).status_code == 200
    response = client.get("/api/health", environ_base=first)
    assert response.status_code == 429
    assert response.get_json()["error_code"] == "RATE_LIMITED"
    assert client.get("/api/health", environ_base={"REMOTE_ADDR": "192.0.2.11"}).status_code == 200


def test_unauthenticated_floods_are_limited_before_the_auth_gate(limited_app):
    client = limited_app.test_client()
    addr = {"REMOTE_ADDR": "198.51.100.7"}
    garbage = {"Authorization": "Bearer not-a-key"}
    statuses = [client.get("/api/stats", headers=garbage, environ_base=addr).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_anonymous_address_budget_is_separate_from_a_keys(limited_app):
    client, headers = limited_app.test_client(), new_key(limited_app)
    addr = {"REMOTE_ADDR": "203.0.113.5"}
    for _ in range(3):
        client.get("/api/health", environ_base=addr)
    assert client.get("/api/health", environ_base=addr).status_code == 429
    assert client.get("/api/stats", headers=headers, environ_base=addr).status_code == 200


def test_limits_apply_to_both_version_mounts_together(limited_app):
    client, headers = limited_app.test_client(), new_key(limited_app)
    for path in ("/api/stats", "/api/v4/stats", "/api/system"):
        assert client.get(path, headers=headers).status_code == 200
    assert client.get("/api/v4/system", headers=headers).status_code == 429


def test_rate_limit_can_be_disabled(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False, RATE_LIMIT_GENERAL="1 per minute")
    client, headers = app.test_client(), new_key(app)
    try:
        assert [client.get("/api/stats", headers=headers).status_code for _ in range(3)] == [200] * 3
    finally:
        # The limiter is shared by every app in the process; re-enable it for the tests that follow.
        from ultimate_agent.extensions import limiter

        limiter.enabled = True


def test_paths_outside_the_api_do_not_spend_the_budget(limited_app):
    client = limited_app.test_client()
    addr = {"REMOTE_ADDR": "192.0.2.50"}
    for _ in range(5):
        assert client.get("/no-such-page", environ_base=addr).status_code == 404
    statuses = [client.get("/api/health", environ_base=addr).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
