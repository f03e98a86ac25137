"""Host-header allow-list (DNS-rebinding defence) and CORS."""

from __future__ import annotations

import pytest
from agent_support import admin_key_of
from envelope import assert_envelope


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.2"])
def test_foreign_host_is_refused(client, host):
    body = assert_envelope(client.get("/api/health", headers={"Host": host}), 400, "INVALID_REQUEST")
    assert body["details"]["host"] == host.split(":")[0]


def test_foreign_host_is_refused_even_with_a_valid_key(client, auth_headers):
    response = client.get("/api/stats", headers={**auth_headers, "Host": "evil.example"})
    assert_envelope(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]:8080"])
def test_local_hosts_are_allowed(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_configured_host_is_allowed(app_factory):
    client = app_factory(ALLOWED_HOSTS=["agent.example"]).test_client()
    assert client.get("/api/health", headers={"Host": "agent.example"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "Agent.Example:8443"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "localhost"}).status_code == 200
    assert_envelope(client.get("/api/health", headers={"Host": "evil.example"}), 400, "INVALID_REQUEST")
    assert_envelope(client.get("/api/health", headers={"Host": "sub.agent.example"}), 400, "INVALID_REQUEST")


def test_leading_dot_allows_a_domain_and_its_subdomains(app_factory):
    client = app_factory(ALLOWED_HOSTS=[".agent.example"]).test_client()
    for host in ("agent.example", "node1.agent.example"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200, host
    assert_envelope(client.get("/api/health", headers={"Host": "badagent.example"}), 400, "INVALID_REQUEST")


def test_allowed_hosts_from_a_comma_separated_env_value(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_ALLOWED_HOSTS", "a.example, b.example")
    client = app_factory().test_client()
    assert client.get("/api/health", headers={"Host": "b.example"}).status_code == 200
    assert_envelope(client.get("/api/health", headers={"Host": "c.example"}), 400, "INVALID_REQUEST")


def test_no_cors_header_by_default(client, auth_headers):
    response = client.get("/api/stats", headers={**auth_headers, "Origin": "http://ui.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/api/stats", headers={
        "Origin": "http://ui.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_configured_cors_origin_is_allowed(app_factory):
    app = app_factory(CORS_ORIGINS=["http://ui.example"])
    key = admin_key_of(app)
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    response = client.get("/api/stats", headers={**headers, "Origin": "http://ui.example"})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == "http://ui.example"
    other = client.get("/api/stats", headers={**headers, "Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_preflight_needs_no_credential(app_factory):
    client = app_factory(CORS_ORIGINS=["http://ui.example"]).test_client()
    response = client.options("/api/stats", headers={
        "Origin": "http://ui.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    })
    assert response.status_code < 300
    assert response.headers.get("Access-Control-Allow-Origin") == "http://ui.example"
    assert "authorization" in response.headers.get("Access-Control-Allow-Headers", "").lower()
