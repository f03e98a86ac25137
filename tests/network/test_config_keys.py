"""Validation of the network node settings."""

from __future__ import annotations

import pytest

from ultimate_agent.config import ConfigError


@pytest.mark.parametrize(("key", "value"), [
    ("NODE_URL", "srvnodes.example.com:5000"),
    ("NETWORK_CLIENT_AUTOSTART", "yes"),
    ("NODE_HEARTBEAT_INTERVAL", 0),
    ("NODE_HEARTBEAT_MIN_INTERVAL", -1),
    ("NODE_REQUEST_TIMEOUT", True),
    ("NODE_BACKOFF_INITIAL", 0),
    ("NODE_BACKOFF_MAX", 10 ** 6),
    ("NODE_ASSIGNMENT_MAX_MEMORY_PERCENT", 150),
    ("TRUSTED_NODE_ADDRESSES", 5),
])
def test_invalid_network_setting_is_refused(app_factory, key, value):
    with pytest.raises(ConfigError, match=key):
        app_factory(**{key: value})


def test_backoff_cap_below_the_first_delay_is_refused(app_factory):
    with pytest.raises(ConfigError, match="NODE_BACKOFF_MAX"):
        app_factory(NODE_BACKOFF_INITIAL=10.0, NODE_BACKOFF_MAX=5.0)


def test_node_url_is_normalised(app_factory):
    assert app_factory(NODE_URL=" http://node.example:5000/ ").config["NODE_URL"] == "http://node.example:5000"
