"""Every error, whoever raises it, reaches the client in the seed's envelope."""

from __future__ import annotations

import json
import logging

import pytest
from agent_support import admin_key_of
from envelope import assert_envelope
from flask import abort

from ultimate_agent.errors import APIError, Conflict, ServiceUnavailable, TaskNotFound, envelope

LEAK_MARKER = "sekrit-internal-detail-7f3a"


@pytest.fixture
def faulty_app(app_factory):
    """An agent with throwaway views that fail in the ways real views can (added before any request)."""
    app = app_factory()

    def crash():
        raise RuntimeError(f"database password is {LEAK_MARKER}")

    def missing_task():
        raise TaskNotFound(details={"task_id": "invalid-task-123"})

    def conflict():
        raise Conflict("Task is already finished", {"task_id": "t-1", "status": "completed"})

    def unavailable():
        raise ServiceUnavailable(details={"service": "chain"})

    def aborts():
        abort(503)

    def custom():
        raise APIError("Quota exhausted", {"quota": 5}, status=402, code="QUOTA_EXHAUSTED")

    views = (("/api/test/crash", crash), ("/test/crash", crash), ("/api/test/missing-task", missing_task),
             ("/api/test/conflict", conflict), ("/api/test/unavailable", unavailable),
             ("/api/test/abort", aborts), ("/api/test/custom", custom))
    for rule, view in views:
        app.add_url_rule(rule, endpoint=f"test_{rule.replace('/', '_')}", view_func=view)
    return app


@pytest.fixture
def faulty_client(faulty_app):
    """A client of `faulty_app` with admin credentials."""
    key = admin_key_of(faulty_app)
    client = faulty_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def test_envelope_helper_builds_the_seed_shape():
    assert envelope("Task not found", "TASK_NOT_FOUND", {"task_id": "t"}) == {
        "success": False, "error": "Task not found", "error_code": "TASK_NOT_FOUND",
        "details": {"task_id": "t"},
    }
    assert envelope("x", "NOT_FOUND")["details"] == {}


@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/v4/no-such-endpoint", "/no-such-page"])
def test_unknown_route_is_not_found(client, auth_headers, path):
    body = assert_envelope(client.get(path, headers=auth_headers), 404, "NOT_FOUND")
    assert body["error"] == "Resource not found"


def test_wrong_method_is_405_with_allowed_methods(client, auth_headers):
    response = client.delete("/api/stats", headers=auth_headers)
    body = assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in body["details"]["allowed"]
    assert "DELETE" not in body["details"]["allowed"]
    assert "GET" in response.headers["Allow"]


def test_get_on_a_post_only_endpoint_is_405(client, auth_headers):
    body = assert_envelope(client.get("/api/auth/token", headers=auth_headers), 405, "METHOD_NOT_ALLOWED")
    assert body["details"]["allowed"] == ["OPTIONS", "POST"]


def test_body_over_max_content_length_is_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    key = admin_key_of(app)
    payload = json.dumps({"agent_id": "a" * 5 * 1024})
    assert len(payload) > 5000
    response = app.test_client().post("/api/auth/token", data=payload, content_type="application/json",
                                      headers={"Authorization": f"Bearer {key}"})
    body = assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert body["details"]["max_bytes"] == 1024


def test_body_under_max_content_length_is_accepted(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    key = admin_key_of(app)
    body = {"agent_id": "a" * 100, "permissions": ["read"]}
    headers = {"Authorization": f"Bearer {key}"}
    response = app.test_client().post("/api/auth/token", json=body, headers=headers)
    assert response.status_code == 200


def test_malformed_json_is_invalid_request_naming_the_body(client, auth_headers):
    response = client.post("/api/auth/token", data='{"permissions": ["read"', content_type="application/json",
                           headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "body"
    assert body["details"]["message"]


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42"])
def test_json_that_is_not_an_object_is_invalid_request(client, auth_headers, raw):
    response = client.post("/api/auth/token", data=raw, content_type="application/json", headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert "field" in body["details"] and body["details"]["message"]


def test_schema_violation_names_the_field_and_the_problem(client, auth_headers):
    response = client.post("/api/auth/token", json={"permissions": ["root"]}, headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"].split(".")[0] == "permissions"
    assert "read" in body["details"]["message"]
    assert body["details"]["location"] == "json"


@pytest.mark.parametrize(("payload", "field"), [
    ({"permissions": "read"}, "permissions"),
    ({"permissions": []}, "permissions"),
    ({"agent_id": "x" * 200}, "agent_id"),
])
def test_each_schema_rule_is_reported_on_its_field(client, auth_headers, payload, field):
    response = client.post("/api/auth/token", json=payload, headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == field


def test_missing_required_field_is_reported(client, auth_headers):
    response = client.post("/api/v4/auth/keys", json={"permissions": ["read"]}, headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "name"


def test_unknown_body_field_is_refused(client, auth_headers):
    payload = {"permissions": ["read"], "is_admin": True}
    response = client.post("/api/auth/token", json=payload, headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "is_admin"


def test_bad_query_parameter_is_invalid_request(client, auth_headers):
    response = client.get("/api/database/tasks?limit=abc", headers=auth_headers)
    body = assert_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "limit"
    assert body["details"]["location"] == "query"


def test_unexpected_exception_is_500_without_internals(faulty_client, caplog):
    caplog.set_level(logging.ERROR)
    for path in ("/api/test/crash", "/test/crash"):
        response = faulty_client.get(path)
        body = assert_envelope(response, 500, "INTERNAL_ERROR")
        assert body["details"] == {}
        text = response.get_data(as_text=True)
        for leak in ("Traceback", LEAK_MARKER, "RuntimeError", "File \"", ".py"):
            assert leak not in text, leak
    # The operator still gets the traceback in the log.
    logged = [r for r in caplog.records if r.exc_info and LEAK_MARKER in str(r.exc_info[1])]
    assert logged


def test_domain_errors_keep_their_code_status_and_details(faulty_client):
    body = assert_envelope(faulty_client.get("/api/test/missing-task"), 404, "TASK_NOT_FOUND")
    assert body["error"] == "Task not found"
    assert body["details"] == {"task_id": "invalid-task-123"}
    body = assert_envelope(faulty_client.get("/api/test/conflict"), 409, "CONFLICT")
    assert body["details"]["status"] == "completed"
    assert_envelope(faulty_client.get("/api/test/unavailable"), 503, "SERVICE_UNAVAILABLE")
    body = assert_envelope(faulty_client.get("/api/test/custom"), 402, "QUOTA_EXHAUSTED")
    assert body["details"] == {"quota": 5}


def test_werkzeug_abort_is_rendered_in_the_envelope(faulty_client):
    assert_envelope(faulty_client.get("/api/test/abort"), 503, "SERVICE_UNAVAILABLE")


def test_auth_errors_are_envelopes(client, read_headers):
    assert_envelope(client.get("/api/stats"), 401, "UNAUTHORIZED")
    assert_envelope(client.get("/api/v4/auth/keys", headers=read_headers), 403, "FORBIDDEN")
