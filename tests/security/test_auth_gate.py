"""The auth gate: every /api endpoint needs a credential, except the health check and the docs page."""

from __future__ import annotations

import pytest
from envelope import assert_envelope

# GET endpoints only an admin may read; every other GET endpoint is open to a `read` credential.
ADMIN_ONLY_GETS = {"/api/auth/keys", "/api/v4/auth/keys", "/api/v4/remote/capabilities", "/api/v4/remote/audit"}
PUBLIC_GETS = {"/api/health", "/api/v4/health"}


@pytest.fixture
def api_get_paths(client, auth_headers) -> list[str]:
    """Every GET path under /api without path parameters, read from the app's own OpenAPI document."""
    spec = client.get("/api/openapi.json", headers=auth_headers)
    assert spec.status_code == 200
    paths = sorted(
        path for path, operations in spec.get_json()["paths"].items()
        if path.startswith("/api") and "get" in operations and "{" not in path
    )
    # Guard against a vacuous matrix: the seed's status endpoints must be among them.
    assert {"/api/stats", "/api/v3/stats/enhanced", "/api/v4/stats", "/api/system"} <= set(paths)
    return [*paths, "/api/openapi.json"]


def test_every_api_get_needs_a_credential_except_health(client, api_get_paths):
    wrong = {}
    for path in api_get_paths:
        response = client.get(path)
        if path in PUBLIC_GETS:
            if response.status_code != 200:
                wrong[path] = response.status_code
            continue
        body = response.get_json(silent=True) or {}
        if response.status_code != 401 or body.get("error_code") != "UNAUTHORIZED":
            wrong[path] = (response.status_code, body)
        else:
            assert_envelope(response, 401, "UNAUTHORIZED")
            assert body["error"] == "Authentication required"
    assert wrong == {}


def test_garbage_bearer_token_is_rejected_as_invalid_credentials(client, api_get_paths):
    for path in api_get_paths:
        if path in PUBLIC_GETS:
            continue
        for token in ("not-a-real-key", "aaa.bbb.ccc", "ua_" + "x" * 43):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            body = assert_envelope(response, 401, "UNAUTHORIZED")
            assert body["error"] == "Invalid or expired credentials", path


def test_non_bearer_authorization_scheme_is_not_a_credential(client, admin_key):
    response = client.get("/api/stats", headers={"Authorization": f"Basic {admin_key}"})
    body = assert_envelope(response, 401, "UNAUTHORIZED")
    assert body["error"] == "Authentication required"


def test_a_read_key_can_get_every_non_admin_endpoint(client, api_get_paths, read_headers):
    refused = {}
    for path in api_get_paths:
        response = client.get(path, headers=read_headers)
        if path in ADMIN_ONLY_GETS:
            if response.status_code != 403:
                refused[path] = response.status_code
        elif response.status_code in (401, 403):
            refused[path] = response.status_code
    assert refused == {}


def test_a_read_key_gets_the_status_endpoints(client, read_headers):
    for path in ("/api/stats", "/api/v3/stats/enhanced", "/api/system", "/api/capabilities",
                 "/api/activity", "/api/network", "/api/performance/metrics", "/api/database/stats"):
        assert client.get(path, headers=read_headers).status_code == 200, path


def test_admin_only_list_refuses_read_and_write_keys(client, read_headers, write_headers, auth_headers):
    for headers in (read_headers, write_headers):
        body = assert_envelope(client.get("/api/v4/auth/keys", headers=headers), 403, "FORBIDDEN")
        assert body["details"]["required"] == "admin"
    assert client.get("/api/v4/auth/keys", headers=auth_headers).status_code == 200


def test_health_is_public_on_both_mounts(client):
    for path in ("/api/health", "/api/v4/health"):
        response = client.get(path)
        assert response.status_code == 200
        assert "health_score" in response.get_json()


def test_docs_page_is_public_html(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True).lower()


def test_metrics_needs_read_permission(client, read_headers):
    assert_envelope(client.get("/metrics"), 401, "UNAUTHORIZED")
    assert_envelope(client.get("/metrics", headers={"Authorization": "Bearer nope"}), 401, "UNAUTHORIZED")
    response = client.get("/metrics", headers=read_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "# TYPE" in response.get_data(as_text=True)


def test_post_without_credential_is_unauthorized_before_validation(client):
    # An anonymous caller learns nothing about the body schema: the gate answers first.
    response = client.post("/api/auth/token", json={"permissions": ["root"]})
    assert_envelope(response, 401, "UNAUTHORIZED")


def test_a_read_key_cannot_write(client, read_headers):
    body = {"name": "x", "permissions": ["read"]}
    response = client.post("/api/v4/auth/keys", json=body, headers=read_headers)
    assert_envelope(response, 403, "FORBIDDEN")
