"""Task types: each name maps to a runner, its config schema and how to size it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError

from ..errors import InvalidRequest, validation_details
from .context import TaskContext, TaskOutcome

Runner = Callable[[TaskContext, dict[str, Any]], TaskOutcome]


@dataclass(frozen=True)
class TaskType:
    """A runnable kind of task."""

    name: str
    run: Runner
    schema: type[Schema]
    description: str
    ai_workload: bool = True
    training: bool = False  # counts as an AI training session
    work_units: Callable[[dict[str, Any]], float] = lambda config: 1.0
    default_estimate_seconds: float = 30.0

    def validate(self, config: dict[str, Any] | None) -> dict[str, Any]:
        """Load and validate a config; defaults filled in. Raises InvalidRequest naming the field."""
        try:
            return self.schema().load(config or {})
        except ValidationError as exc:
            details = validation_details({"config": exc.messages})
            raise InvalidRequest("Invalid task configuration", details) from exc

    def config_fields(self) -> dict[str, Any]:
        """Documented config keys with their type and default (for clients and the dashboard)."""
        fields = {}
        for name, field in self.schema().fields.items():
            default = field.load_default
            fields[name] = {
                "type": type(field).__name__.lower(),
                "default": None if callable(default) or default.__class__.__name__ == "_Missing" else default,
                "required": field.required,
                "description": field.metadata.get("description", ""),
            }
        return fields


class TaskTypeRegistry:
    """The task types this agent can run."""

    def __init__(self) -> None:
        self._types: dict[str, TaskType] = {}

    def register(self, task_type: TaskType) -> None:
        """Add (or replace) a task type."""
        self._types[task_type.name] = task_type

    def get(self, name: str) -> TaskType:
        """The task type called `name`; InvalidRequest when unknown."""
        try:
            return self._types[name]
        except KeyError:
            raise InvalidRequest(
                "Unknown task type",
                {"field": "type", "message": f"Must be one of: {', '.join(self.names())}"},
            ) from None

    def names(self) -> list[str]:
        """Registered type names, sorted."""
        return sorted(self._types)

    def __contains__(self, name: str) -> bool:
        return name in self._types
