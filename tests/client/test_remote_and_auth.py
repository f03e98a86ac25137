"""SDK calls of remote management, tokens and API keys against a live agent."""

from __future__ import annotations

import pytest

from ultimate_agent.client import Forbidden, InvalidRequest, TaskNotFound, Unauthorized


def test_remote_command_capabilities_and_audit(live_agent):
    client = live_agent.client()
    commands = client.get_remote_capabilities()["commands"]
    assert {"get_status", "run_diagnostics", "backup_data"} <= set(commands)
    reply = client.remote_command("get_status", command_id="cmd-sdk-1")
    assert reply["success"] is True and reply["command_id"] == "cmd-sdk-1"
    assert reply["result"]["tasks"]["scheduler"]["scheduler_running"] is True
    assert client.remote_command("get_status", command_id="cmd-sdk-1")["replayed"] is True
    audit = client.get_remote_audit(limit=5, command="get_status")
    assert [entry["command_id"] for entry in audit["entries"]] == ["cmd-sdk-1"]


def test_a_command_that_cannot_act_raises_the_replys_error(live_agent):
    client = live_agent.client()
    with pytest.raises(TaskNotFound) as caught:
        client.remote_command("pause_task", {"task_id": "task-unknown"})
    assert caught.value.status == 200 and caught.value.envelope["success"] is False
    assert caught.value.details == {"task_id": "task-unknown"}
    with pytest.raises(InvalidRequest) as bad:
        client.remote_command("no_such_command")
    assert bad.value.status == 400


def test_keys_and_tokens_round_trip(live_agent):
    admin = live_agent.client()
    created = admin.create_key("sdk-reader", ["read"])
    assert created["permissions"] == ["read"] and created["key"].startswith(created["prefix"])
    assert "sdk-reader" in {key["name"] for key in admin.list_keys()["keys"]}

    reader = live_agent.client(api_key=created["key"])
    token = reader.create_token(["read"], agent_id="sdk-test")
    assert token["permissions"] == ["read"] and token["expires_in"] > 0
    via_token = live_agent.client(api_key=token["token"])
    assert via_token.get_stats()["running"] is True
    with pytest.raises(Forbidden):
        via_token.list_keys()

    assert admin.revoke_key(created["id"])["revoked"] is True
    for client in (reader, via_token):
        with pytest.raises(Unauthorized):
            client.get_stats()


def test_a_token_authenticates_the_live_event_socket(live_agent):
    admin = live_agent.client()
    token = admin.create_token(["read"])["token"]
    watcher = live_agent.client(api_key=token)
    task_id = admin.start_task("data_processing")["task_id"]
    assert watcher.wait_for_task(task_id, timeout=60)["status"] == "completed"
    with pytest.raises(Unauthorized):
        live_agent.client(api_key="ua_wrong-key-wrong-key").on("task_progress", print)
