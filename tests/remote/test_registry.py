"""The command registry: names map to handlers, schemas and permissions."""

from __future__ import annotations

import pytest

from ultimate_agent.errors import InvalidRequest
from ultimate_agent.remote.registry import Command, CommandRegistry, build_registry

SEED_COMMANDS = {"restart_agent", "shutdown_agent", "get_status", "start_task", "cancel_task", "update_config",
                 "set_cpu_limit", "enable_gpu", "run_diagnostics", "backup_data", "update_agent"}


def test_built_registry_holds_the_seed_commands_all_admin_only():
    registry = build_registry()
    assert set(registry.names()) >= SEED_COMMANDS
    assert all(registry.get(name).permission == "admin" for name in registry.names())


def test_a_name_registers_once():
    registry = CommandRegistry()
    registry.register(Command("ping", lambda app, params: {}))
    with pytest.raises(ValueError):
        registry.register(Command("ping", lambda app, params: {}))


def test_unknown_name_is_an_invalid_request_naming_the_field():
    with pytest.raises(InvalidRequest) as raised:
        build_registry().get("self_destruct")
    assert raised.value.details["field"] == "command_type"


def test_describe_gives_the_parameters_as_json_schema():
    described = build_registry().get("monitor_resources").describe()
    properties = described["parameters"]["properties"]
    assert properties["duration"]["maximum"] == 300 and properties["interval"]["type"] == "number"
    assert described["parameters"]["additionalProperties"] is False
