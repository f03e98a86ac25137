"""Remote management over HTTP and Socket.IO: permissions, the shared budget, idempotency, audit, bad input."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from agent_support import admin_headers_of, admin_key_of

from ultimate_agent.extensions import db, socketio
from ultimate_agent.models import AuditEntry, TaskRecord

COMMAND = "/api/v4/remote/command"


def run(client, headers, command_type, command_id=None, **parameters):
    body = {"command_type": command_type, "parameters": parameters}
    if command_id:
        body["command_id"] = command_id
    return client.post(COMMAND, headers=headers, json=body)


def admin_of(app) -> dict[str, str]:
    return admin_headers_of(app)


@pytest.mark.parametrize("method, path", [
    ("post", COMMAND), ("get", "/api/v4/remote/capabilities"), ("get", "/api/v4/remote/audit"),
])
def test_only_admins_reach_remote_management(client, auth_headers, read_headers, write_headers, method, path):
    send = getattr(client, method)
    body = {"command_type": "get_status"} if method == "post" else None
    assert send(path, json=body).status_code == 401
    for headers in (read_headers, write_headers):
        reply = send(path, json=body, headers=headers)
        assert reply.status_code == 403 and reply.get_json()["error_code"] == "FORBIDDEN"
    assert send(path, json=body, headers=auth_headers).status_code == 200


def test_admin_minted_token_may_run_commands_and_a_read_token_of_the_admin_may_not(client, auth_headers):
    read_token = client.post("/api/auth/token", headers=auth_headers, json={"permissions": ["read"]}).get_json()
    reply = run(client, {"Authorization": f"Bearer {read_token['token']}"}, "get_status")
    assert reply.status_code == 403


def test_capabilities_list_every_command_with_its_parameter_schema(client, auth_headers):
    body = client.get("/api/v4/remote/capabilities", headers=auth_headers).get_json()
    seed = {"restart_agent", "shutdown_agent", "get_status", "start_task", "cancel_task", "pause_task",
            "resume_task", "set_task_priority", "update_config", "reload_config", "deploy_configuration",
            "set_cpu_limit", "set_memory_limit", "enable_gpu", "optimize_performance", "get_detailed_status",
            "get_logs", "cleanup_logs", "run_diagnostics", "monitor_resources", "backup_data", "clear_cache",
            "update_agent"}
    assert set(body["commands"]) == seed
    delay = body["details"]["restart_agent"]["parameters"]["properties"]["delay"]
    assert delay["type"] == "number" and delay["maximum"] == 3600
    assert body["details"]["set_cpu_limit"]["parameters"]["required"] == ["percent"]
    assert all(details["permission"] == "admin" for details in body["details"].values())


def test_reply_echoes_the_command_id_or_generates_one(client, auth_headers):
    named = run(client, auth_headers, "get_status", command_id="cmd-12345").get_json()
    assert named["success"] is True and named["command_id"] == "cmd-12345"
    assert named["result"]["tasks"]["scheduler"]["scheduler_running"] is True
    generated = run(client, auth_headers, "get_status").get_json()
    assert generated["command_id"].startswith("cmd-") and generated["command_id"] != "cmd-12345"


def test_a_repeated_command_id_returns_the_first_result_without_running_again(app, client, auth_headers):
    first = run(client, auth_headers, "start_task", command_id="cmd-once", type="neural_network_training",
                config={"epochs": 1}).get_json()
    again = run(client, auth_headers, "start_task", command_id="cmd-once", type="neural_network_training",
                config={"epochs": 1}).get_json()
    assert first["success"] is True and again["replayed"] is True
    assert again["result"] == first["result"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(TaskRecord)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.command_id == "cmd-once")) == 1


def test_concurrent_requests_with_one_command_id_run_it_once(app, auth_headers):
    replies = []

    def send():
        replies.append(run(app.test_client(), auth_headers, "backup_data", command_id="cmd-race").get_json())

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    archives = {reply["result"]["archive"] for reply in replies}
    assert len(archives) == 1 and sum(1 for reply in replies if reply.get("replayed")) == 2
    assert len(list((Path(app.instance_path) / "backups").glob("*.tar.gz"))) == 1


def test_reusing_a_command_id_for_another_command_is_a_conflict(client, auth_headers):
    run(client, auth_headers, "get_status", command_id="cmd-mixed")
    reply = run(client, auth_headers, "clear_cache", command_id="cmd-mixed")
    assert reply.status_code == 409 and reply.get_json()["details"]["command_type"] == "get_status"


def test_each_command_is_audited_with_secrets_redacted(app, client, auth_headers):
    run(client, auth_headers, "deploy_configuration", command_id="cmd-deploy",
        config={"ADMIN_API_KEY": "a-very-secret-admin-key-123", "LOG_LEVEL": "INFO",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{app.instance_path}/agent.db"})
    run(client, auth_headers, "cancel_task", command_id="cmd-missing", task_id="task-nope")
    body = client.get("/api/v4/remote/audit", headers=auth_headers).get_json()
    assert body["total"] == 2
    missing, deploy = body["entries"]
    assert deploy["command"] == "deploy_configuration" and deploy["command_id"] == "cmd-deploy"
    assert deploy["actor"] == "env-admin (admin)" or deploy["actor"].startswith("key:")
    assert deploy["parameters"]["config"]["ADMIN_API_KEY"] == "***"
    assert deploy["parameters"]["config"]["LOG_LEVEL"] == "INFO"
    assert deploy["success"] is True and deploy["duration_ms"] >= 0 and deploy["timestamp"].endswith("Z")
    assert missing["success"] is False and missing["error"] == "Task not found"
    assert missing["outcome"]["error_code"] == "TASK_NOT_FOUND"
    with app.app_context():
        stored = db.session.scalars(db.select(AuditEntry)).all()
        assert "a-very-secret-admin-key-123" not in repr([(e.parameters, e.outcome) for e in stored])
    only_failed = client.get("/api/v4/remote/audit?success=false", headers=auth_headers).get_json()
    assert [entry["command_id"] for entry in only_failed["entries"]] == ["cmd-missing"]
    by_command = client.get("/api/v4/remote/audit?command=deploy_configuration&limit=1",
                            headers=auth_headers).get_json()
    assert by_command["total"] == 1 and by_command["limit"] == 1


def test_url_passwords_in_parameters_are_redacted():
    from ultimate_agent.remote.audit import redact

    assert redact({"values": {"NODE_URL": "https://ops:hunter2@node.example:5000/x"}}) == {
        "values": {"NODE_URL": "https://ops:***@node.example:5000/x"}}


def test_unknown_command_is_a_400_naming_the_field(client, auth_headers):
    reply = run(client, auth_headers, "format_disk")
    assert reply.status_code == 400
    body = reply.get_json()
    assert body["error_code"] == "INVALID_REQUEST" and body["details"]["field"] == "command_type"
    assert "get_status" in body["details"]["available"]


@pytest.mark.parametrize("body, field", [
    ({}, "command_type"),
    ({"command_type": "get_status", "parameters": []}, "parameters"),
    ({"command_type": "get_status", "command_id": "has spaces"}, "command_id"),
])
def test_malformed_requests_are_400s(client, auth_headers, body, field):
    reply = client.post(COMMAND, headers=auth_headers, json=body)
    assert reply.status_code == 400 and reply.get_json()["details"]["field"] == field


BAD_PARAMETERS = [
    ("restart_agent", {"delay": -1}, "delay"),
    ("restart_agent", {"delay": "soon"}, "delay"),
    ("shutdown_agent", {"delay": 7200}, "delay"),
    ("get_status", {"verbose": True}, "verbose"),
    ("get_detailed_status", {"x": 1}, "x"),
    ("start_task", {}, "type"),
    ("start_task", {"type": "data_processing", "priority": 0}, "priority"),
    ("cancel_task", {}, "task_id"),
    ("pause_task", {"task_id": ""}, "task_id"),
    ("resume_task", {"task_id": 5}, "task_id"),
    ("set_task_priority", {"task_id": "task-1", "priority": 11}, "priority"),
    ("update_config", {}, "values"),
    ("update_config", {"values": {}}, "values"),
    ("reload_config", {"path": "/etc/passwd"}, "path"),
    ("deploy_configuration", {"config": "LOG_LEVEL=INFO"}, "config"),
    ("set_cpu_limit", {"percent": 0}, "percent"),
    ("set_cpu_limit", {"percent": 101}, "percent"),
    ("set_memory_limit", {"mb": -5}, "mb"),
    ("enable_gpu", {}, "enabled"),
    ("enable_gpu", {"enabled": "maybe"}, "enabled"),
    ("optimize_performance", {"trial_seconds": 60}, "trial_seconds"),
    ("get_logs", {"lines": 0}, "lines"),
    ("get_logs", {"level": "LOUD"}, "level"),
    ("cleanup_logs", {"older_than_days": -1}, "older_than_days"),
    ("run_diagnostics", {"checks": ["disk"]}, "checks"),
    ("monitor_resources", {"duration": 301}, "duration"),
    ("monitor_resources", {"duration": 1, "interval": 2}, "interval"),
    ("backup_data", {"target": "/tmp"}, "target"),
    ("clear_cache", {"all": True}, "all"),
    ("update_agent", {"restart": "later"}, "restart"),
]


@pytest.mark.parametrize("command_type, parameters, field", BAD_PARAMETERS,
                         ids=[f"{c}-{f}" for c, _, f in BAD_PARAMETERS])
def test_bad_parameters_are_400s_naming_the_field_and_run_nothing(app, client, auth_headers, command_type,
                                                                  parameters, field):
    reply = run(client, auth_headers, command_type, command_id="cmd-bad", **parameters)
    assert reply.status_code == 400, reply.get_json()
    body = reply.get_json()
    assert body["error_code"] == "INVALID_REQUEST" and body["details"]["field"] == f"parameters.{field}"
    assert app.extensions["remote_lifecycle"].pending is None
    audit = client.get("/api/v4/remote/audit", headers=auth_headers).get_json()["entries"]
    assert audit[0]["command_id"] == "cmd-bad" and audit[0]["success"] is False and audit[0]["outcome"] is None


def test_every_command_has_a_bad_parameter_case(client, auth_headers):
    commands = client.get("/api/v4/remote/capabilities", headers=auth_headers).get_json()["commands"]
    assert set(commands) == {command for command, _, _ in BAD_PARAMETERS}


def test_a_command_that_cannot_act_answers_success_false_with_the_reason(client, auth_headers):
    body = run(client, auth_headers, "pause_task", task_id="task-unknown").get_json()
    assert body["success"] is False and body["error_code"] == "TASK_NOT_FOUND"
    assert body["details"] == {"task_id": "task-unknown"}


# -- Socket.IO -----------------------------------------------------------------------------------


def responses(sock) -> list[dict]:
    return [event["args"][0] for event in sock.get_received() if event["name"] == "remote_command_response"]


def test_socket_remote_command_replies_with_the_http_body(socket_client, client, auth_headers):
    socket_client.emit("remote_command", {"command_type": "get_status", "parameters": {}, "command_id": "cmd-ws"})
    reply = responses(socket_client)[0]
    assert reply["success"] is True and reply["command_id"] == "cmd-ws"
    assert reply["result"]["agent_id"].startswith("ultimate-")
    socket_client.emit("remote_command", {"command_type": "get_status", "command_id": "cmd-ws"})
    assert responses(socket_client)[0]["replayed"] is True
    audit = client.get("/api/v4/remote/audit", headers=auth_headers).get_json()
    assert audit["total"] == 1 and audit["entries"][0]["command_id"] == "cmd-ws"


def test_socket_bad_input_and_missing_permission_answer_the_envelope(app, make_key):
    admin = socketio.test_client(app, auth={"token": admin_key_of(app)})
    admin.emit("remote_command", {"command_type": "set_cpu_limit", "parameters": {"percent": 500},
                                  "command_id": "cmd-bad"})
    bad = responses(admin)[0]
    assert bad["error_code"] == "INVALID_REQUEST" and bad["details"]["field"] == "parameters.percent"
    assert bad["command_id"] == "cmd-bad"
    admin.emit("remote_command", "get_status")
    assert responses(admin)[0]["details"]["field"] == "body"
    admin.disconnect()
    writer = socketio.test_client(app, auth={"token": make_key(["write"])})
    writer.emit("remote_command", {"command_type": "get_status"})
    assert responses(writer)[0]["error_code"] == "FORBIDDEN"
    writer.disconnect()


def test_http_and_socket_share_one_remote_budget(app_factory):
    app = app_factory(RATE_LIMIT_REMOTE="3 per minute")
    headers = admin_of(app)
    client = app.test_client()
    sock = socketio.test_client(app, auth={"token": headers["Authorization"].split()[1]})
    assert run(client, headers, "get_status").status_code == 200
    sock.emit("remote_command", {"command_type": "get_status"})
    sock.emit("remote_command", {"command_type": "get_status"})
    assert [reply["success"] for reply in responses(sock)] == [True, True]
    limited = run(client, headers, "get_status")
    assert limited.status_code == 429 and limited.get_json()["error_code"] == "RATE_LIMITED"
    sock.emit("remote_command", {"command_type": "get_status", "command_id": "cmd-over"})
    over = responses(sock)[0]
    assert over["error_code"] == "RATE_LIMITED" and over["details"]["limit"] == 3
    assert over["command_id"] == "cmd-over"
    # Reading the capabilities and the audit trail does not spend the command budget.
    assert client.get("/api/v4/remote/capabilities", headers=headers).status_code == 200
    sock.disconnect()


def test_socket_budget_starts_with_the_http_budget_spent(app_factory):
    app = app_factory(RATE_LIMIT_REMOTE="2 per minute")
    headers = admin_of(app)
    client = app.test_client()
    assert run(client, headers, "get_status").status_code == 200
    assert run(client, headers, "get_status").status_code == 200
    sock = socketio.test_client(app, auth={"token": headers["Authorization"].split()[1]})
    sock.emit("remote_command", {"command_type": "get_status"})
    assert responses(sock)[0]["error_code"] == "RATE_LIMITED"
    sock.disconnect()
