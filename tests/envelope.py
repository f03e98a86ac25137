"""The one check of the seed's error envelope that every test file uses."""

from __future__ import annotations

ENVELOPE_KEYS = {"success", "error", "error_code", "details"}


def assert_envelope(response, status: int, code: str) -> dict:
    """The response is exactly the seed's error envelope with this status and code; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ENVELOPE_KEYS
    assert body["success"] is False
    assert body["error_code"] == code
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    return body
