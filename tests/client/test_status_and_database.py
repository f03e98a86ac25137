"""SDK calls of the status, monitoring and database areas against a live agent; the seed's example."""

from __future__ import annotations

import pytest

from ultimate_agent.client import UltimateAgentClient, Unauthorized


def test_status_calls_return_the_agents_own_figures(live_agent):
    client = live_agent.client()
    agent_id = live_agent.app.config["AGENT_ID"]
    stats = client.get_stats()
    assert stats["agent_id"] == agent_id and stats["running"] is True
    enhanced = client.get_status()
    assert enhanced["agent_id"] == agent_id and {"stats", "ai_status", "blockchain_status"} <= set(enhanced)
    assert client.get_system()["status"] == "online"
    assert client.get_capabilities()["agent_id"] == agent_id
    assert client.get_activity()["tasks_running"] == 0
    assert client.get_network()["agent_id"] == agent_id


def test_monitoring_calls_return_live_measurements(live_agent):
    client = live_agent.client()
    metrics = client.get_performance_metrics()
    assert 0 <= metrics["cpu_percent"] <= 100 and metrics["process"]["threads"] > 0
    health = client.get_health()
    assert 0 <= health["health_score"] <= 100 and "cpu" in health["components"]
    text = client.get_prometheus_metrics()
    assert "# TYPE" in text


def test_database_calls_see_a_finished_task(live_agent):
    client = live_agent.client()
    task_id = client.start_task("data_processing")["task_id"]
    assert client.wait_for_task(task_id, timeout=60)["status"] == "completed"
    stats = client.get_database_stats()
    assert stats["task_records"] == 1 and "task_records" in stats["tables"]
    records = client.get_task_records(limit=5, task_type="data_processing")
    assert records["filtered_count"] == 1 and records["tasks"][0]["task_id"] == task_id
    assert client.get_task_records(status="failed")["filtered_count"] == 0
    history = client.get_performance_history(hours=1)
    assert history["timeframe_hours"] == 1 and isinstance(history["metrics"], list)


def test_a_wrong_key_is_unauthorized_with_the_envelope(live_agent):
    client = live_agent.client(api_key="ua_not-a-real-key-at-all")
    with pytest.raises(Unauthorized) as caught:
        client.get_stats()
    assert caught.value.status == 401
    assert caught.value.envelope["success"] is False and caught.value.envelope["error_code"] == "UNAUTHORIZED"
    assert caught.value.attempts == 1  # a 401 is not retried


def test_health_needs_no_key(live_agent, monkeypatch, tmp_path):
    # A non-local URL: no key from the environment or any admin key file.
    monkeypatch.setenv("ULTIMATE_AGENT_INSTANCE_PATH", str(tmp_path / "nowhere"))
    client = live_agent.client()
    client.http.api_key = None
    assert client.get_health()["status"] in {"healthy", "warning", "critical", "degraded"}
    with pytest.raises(Unauthorized):
        client.get_stats()


def test_seed_python_example_runs_unchanged_apart_from_the_key(serve, ai_app, capsys):
    """The seed's 'Python SDK Example' usage block; the only change is passing the agent's URL and key."""
    agent = serve(ai_app)  # an agent with the built-in models: the example runs sentiment inference
    client = UltimateAgentClient(agent.url, api_key=agent.admin_key)
    agent.clients.append(client)

    # --- the seed's usage, verbatim from here on ---
    status = client.get_status()
    print(f"Agent running: {status['running']}")

    task = client.start_task("neural_network_training", {
        "epochs": 5,
        "learning_rate": 0.01
    })
    print(f"Task started: {task['task_id']}")

    result = client.run_inference("sentiment", "This is great!")
    print(f"Sentiment: {result['prediction']} ({result['confidence']:.2f})")
    # --- end of the seed's usage ---

    out = capsys.readouterr().out
    assert "Agent running: True" in out
    assert f"Task started: {task['task_id']}" in out
    assert "Sentiment: positive (" in out
    client.cancel_task(task["task_id"])


def test_default_base_url_is_the_seeds():
    client = UltimateAgentClient(api_key="x" * 20)
    assert client.base_url == "http://localhost:8080"
    client.close()
