"""TRUSTED_NODE_ADDRESSES: the network node reads the status endpoints without a token, and may only read."""

from __future__ import annotations

import pytest

from ultimate_agent.config import ConfigError

NODE = {"REMOTE_ADDR": "10.20.0.5"}
STRANGER = {"REMOTE_ADDR": "10.99.0.7"}
NODE_READS = ["/api/stats", "/api/v3/stats/enhanced", "/api/v3/ai/capabilities", "/api/system", "/api/tasks",
              "/api/capabilities", "/api/network", "/api/v4/stats"]


@pytest.fixture
def trusting_app(app_factory):
    """An agent that trusts one node address and one network."""
    return app_factory(TRUSTED_NODE_ADDRESSES=["10.20.0.5", "192.168.7.0/24"])


@pytest.mark.parametrize("path", NODE_READS)
def test_trusted_node_reads_status_without_a_token(trusting_app, path):
    response = trusting_app.test_client().get(path, environ_base=NODE)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_trusted_network_matches_any_address_in_it(trusting_app):
    response = trusting_app.test_client().get("/api/stats", environ_base={"REMOTE_ADDR": "192.168.7.200"})
    assert response.status_code == 200


def test_trusted_node_may_not_write_or_administer(trusting_app):
    client = trusting_app.test_client()
    start = client.post("/api/start_task", json={"type": "data_processing"}, environ_base=NODE)
    assert start.status_code == 403 and start.get_json()["details"] == {"required": "write"}
    assert client.get("/api/auth/keys", environ_base=NODE).status_code == 403
    # No credential to derive a token from: minting one is refused rather than yielding a dead token.
    assert client.post("/api/auth/token", json={}, environ_base=NODE).status_code == 403


def test_other_addresses_still_need_a_token(trusting_app):
    assert trusting_app.test_client().get("/api/stats", environ_base=STRANGER).status_code == 401


def test_a_bad_token_from_the_node_address_is_refused(trusting_app):
    response = trusting_app.test_client().get("/api/stats", environ_base=NODE,
                                              headers={"Authorization": "Bearer wrong-key"})
    assert response.status_code == 401


def test_nothing_is_trusted_by_default(app):
    assert app.config["TRUSTED_NODE_ADDRESSES"] == []
    assert app.test_client().get("/api/stats", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401


def test_trusted_addresses_come_from_a_comma_list_in_the_environment(app_factory, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_TRUSTED_NODE_ADDRESSES", "10.20.0.5, 10.20.0.6")
    app = app_factory()
    assert app.config["TRUSTED_NODE_ADDRESSES"] == ["10.20.0.5", "10.20.0.6"]


def test_an_entry_that_is_no_address_is_refused(app_factory):
    with pytest.raises(ConfigError, match="TRUSTED_NODE_ADDRESSES"):
        app_factory(TRUSTED_NODE_ADDRESSES=["srvnodes.example.com"])
