"""Retries against real refusals: a real 429 from the rate limiter, a real 503, a closed port."""

from __future__ import annotations

import logging
import socket
import time

import pytest
import requests

from ultimate_agent.client import ConnectionFailed, RateLimited, ServiceUnavailable, UltimateAgentClient


def served(app, method: str, status: int) -> int:
    """How many requests the agent answered with `status` for `method` (its own Prometheus counter)."""
    total = 0
    for metric in app.extensions["agent_metrics"].requests.collect():
        for sample in metric.samples:
            if (sample.name.endswith("_total") and sample.labels["method"] == method
                    and sample.labels["status"] == str(status)):
                total += sample.value
    return int(total)


def test_a_real_429_is_retried_after_retry_after_and_then_succeeds(serve, app_factory, caplog):
    agent = serve(app_factory(RATE_LIMIT_GENERAL="3 per 1 second"))
    client = agent.client(retries=3)
    for _ in range(3):
        client.get_stats()
    refused = requests.get(f"{agent.url}/api/stats", headers={"Authorization": f"Bearer {agent.admin_key}"})
    assert refused.status_code == 429
    reset_in = float(refused.headers["X-RateLimit-Reset"]) - time.time()
    caplog.set_level(logging.INFO, logger="ultimate_agent.client.http")
    started = time.monotonic()
    assert client.get_stats()["running"] is True
    waited = time.monotonic() - started
    assert waited >= reset_in - 0.1  # it slept until the window reset, not just its own short backoff
    assert any("HTTP 429 RATE_LIMITED" in message for message in caplog.messages)
    assert served(agent.app, "GET", 429) >= 2  # the refused probe and at least one refused SDK attempt


def test_post_is_retried_on_429_because_the_agent_refused_before_acting(serve, app_factory):
    agent = serve(app_factory(RATE_LIMIT_TASKS="1 per 1 second"))
    client = agent.client(retries=3)
    first = client.start_task("data_processing")["task_id"]
    second = client.start_task("data_processing")["task_id"]  # 429 first, then accepted after the window
    assert first != second
    assert served(agent.app, "POST", 429) >= 1
    assert client.get_task_records()["total_count"] == 2  # retried, yet queued once


def test_a_long_retry_after_is_not_slept_through(serve, app_factory):
    agent = serve(app_factory(RATE_LIMIT_GENERAL="2 per 30 seconds"))
    client = agent.client(retries=3, max_retry_after=5)
    client.get_stats()
    client.get_stats()
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.get_stats()
    assert time.monotonic() - started < 1
    error = caught.value
    assert error.status == 429 and error.attempts == 1
    assert 20 <= error.retry_after <= 30
    assert error.envelope["details"]["limit"] == 2 and error.envelope["details"]["window_seconds"] == 30


def test_exhausted_retries_raise_rate_limited_with_the_attempt_count(serve, app_factory):
    agent = serve(app_factory(RATE_LIMIT_GENERAL="1 per 1 second"))
    client = agent.client(retries=0)
    client.get_stats()
    with pytest.raises(RateLimited) as caught:
        client.get_stats()
    assert caught.value.attempts == 1 and caught.value.headers["Retry-After"] in {"0", "1"}


def test_a_real_503_is_retried_with_exponential_backoff_then_raised(live_agent):
    # This agent runs without a chain: every blockchain call is a real 503 SERVICE_UNAVAILABLE.
    client = live_agent.client(retries=2, backoff_factor=0.2)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        client.get_balance()
    assert time.monotonic() - started >= 0.2 + 0.4  # two backoffs: 0.2 s, then 0.4 s
    assert caught.value.attempts == 3 and caught.value.status == 503
    assert "CHAIN_ENABLED" in caught.value.message
    assert served(live_agent.app, "GET", 503) == 3


def test_a_closed_port_is_connection_failed_after_retrying_reads_only():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = UltimateAgentClient(f"http://127.0.0.1:{port}", api_key="k" * 20, retries=2, backoff_factor=0.01)
    with pytest.raises(ConnectionFailed) as read:
        client.get_stats()
    assert read.value.attempts == 3
    with pytest.raises(ConnectionFailed) as write:
        client.start_task("data_processing")  # a POST that may have arrived is not sent twice
    assert write.value.attempts == 1
    client.close()
