"""The command registry: each remote command's name, handler, parameter schema and permission."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask
from marshmallow import Schema

from ..errors import APIError, InvalidRequest

Handler = Callable[[Flask, dict[str, Any]], dict[str, Any]]

# Modules that each export COMMANDS; imported when the registry is built, not at package import.
COMMAND_MODULES = (
    "lifecycle",
    "status",
    "tasks",
    "settings",
    "limits",
    "calibration",
    "logs",
    "diagnostics",
    "backup",
    "maintenance",
)


class CommandFailed(APIError):
    """A valid command that could not act (no such task, GPU absent): answered with `success: false`."""

    status, code, message = 200, "COMMAND_FAILED", "The command could not be carried out"


class EmptyParams(Schema):
    """Commands that take no parameters."""


@dataclass(frozen=True)
class Command:
    """One remote command."""

    name: str
    handler: Handler
    params: type[Schema] = EmptyParams
    permission: str = "admin"
    description: str = ""

    def describe(self) -> dict[str, Any]:
        """The command's documentation: description, permission and parameters as JSON Schema."""
        converter = OpenAPIConverter(openapi_version="3.0.3", schema_name_resolver=lambda _s: None, spec=None)
        return {"description": self.description, "permission": self.permission,
                "parameters": converter.schema2jsonschema(self.params())}


class CommandRegistry:
    """Name -> Command."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, command: Command) -> None:
        """Add a command; a name may be registered once."""
        if command.name in self._commands:
            raise ValueError(f"remote command {command.name!r} registered twice")
        self._commands[command.name] = command

    def get(self, name: str) -> Command:
        """The command called `name`; 400 naming the field when there is none."""
        command = self._commands.get(name)
        if command is None:
            raise InvalidRequest("Unknown remote command", {
                "field": "command_type", "message": f"Unknown command {name!r}", "available": self.names()})
        return command

    def names(self) -> list[str]:
        """Every command name, in registration order."""
        return list(self._commands)

    def __contains__(self, name: object) -> bool:
        return name in self._commands


def build_registry() -> CommandRegistry:
    """A registry holding every built-in remote command."""
    registry = CommandRegistry()
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"{__package__}.{module_name}")
        for command in module.COMMANDS:
            registry.register(command)
    return registry
