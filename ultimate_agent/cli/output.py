"""CLI output: tables for people, JSON for scripts, and the exit codes scripts can trust."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes (also in `ultimate-agent --help` and the README).
EXIT_OK = 0
EXIT_API_ERROR = 1  # the agent answered with an error envelope (or a local command failed)
EXIT_USAGE = 2  # bad command line (click's own code)
EXIT_TASK_FAILED = 3  # a watched task ended failed or cancelled
EXIT_UNREACHABLE = 4  # no answer from the agent (connection refused, timeout)
EXIT_AUTH = 5  # UNAUTHORIZED or FORBIDDEN
EXIT_WAIT_TIMEOUT = 6  # --timeout passed before the watched task ended

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 the agent answered with an error; 2 usage error; 3 the task failed or was "
    "cancelled; 4 the agent could not be reached; 5 not authenticated or not permitted; "
    "6 timed out waiting for a task."
)


def wants_json(local_flag: bool) -> bool:
    """The command's --json, or the global one."""
    ctx = click.get_current_context(silent=True)
    return local_flag or bool(ctx and ctx.find_root().params.get("as_json"))


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows in aligned columns under a header."""
    cells = [list(map(str, headers))] + [[format_value(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def format_value(value: Any) -> str:
    """A cell: floats to 4 significant digits, None as '-', containers as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


def key_values(pairs: Sequence[tuple[str, Any]]) -> None:
    """Print `label: value` lines, labels aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        click.echo(f"{label.ljust(width)}  {format_value(value)}")


def parse_value(text: str) -> Any:
    """A command-line value: JSON where it parses (numbers, true, lists), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """`k=v` options into a dict (values through parse_value)."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint=option)
        parsed[key] = parse_value(value)
    return parsed


def exit_code_for(error: Exception) -> int:
    """The exit code of an SDK error."""
    from ..client import ConnectionFailed, Forbidden, TaskWaitTimeout, Unauthorized

    if isinstance(error, ConnectionFailed):
        return EXIT_UNREACHABLE
    if isinstance(error, (Unauthorized, Forbidden)):
        return EXIT_AUTH
    if isinstance(error, TaskWaitTimeout):
        return EXIT_WAIT_TIMEOUT
    return EXIT_API_ERROR


def reports_errors(command: F) -> F:
    """Turn SDK errors into a message (stderr; the envelope on stdout under --json) and an exit code."""
    from ..client import AgentError

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AgentError as error:
            if wants_json(bool(kwargs.get("as_json"))):
                emit_json(error.envelope)
            click.echo(f"Error: {error}", err=True)
            if error.details:
                click.echo(f"Details: {json.dumps(error.details, default=str)}", err=True)
            click.get_current_context().exit(exit_code_for(error))

    return wrapper  # type: ignore[return-value]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
