"""`ultimate-agent tasks ...`: list, start, cancel, pause, resume, show and watch tasks."""

from __future__ import annotations

import json
from typing import Any

import click

from .connection import agent_client
from .output import (
    EXIT_TASK_FAILED,
    emit_json,
    format_value,
    json_option,
    key_values,
    parse_pairs,
    reports_errors,
    table,
    wants_json,
)
from .progress import ProgressLine

TIMEOUT_OPTION = click.option("--timeout", type=float, default=None,
                              help="Give up waiting after this many seconds (exit code 6).")


@click.group()
def tasks() -> None:
    """List, start and control the agent's tasks."""


@tasks.command("list")
@click.option("--all", "show_all", is_flag=True, help="Stored records of every task, not only current ones.")
@click.option("--limit", type=int, default=20, show_default=True, help="Rows with --all.")
@click.option("--type", "task_type", default=None, help="Only this task type (with --all).")
@json_option
@reports_errors
def tasks_list(show_all: bool, limit: int, task_type: str | None, as_json: bool) -> None:
    """Queued, running and paused tasks (or, with --all, the stored records)."""
    client = agent_client()
    if show_all:
        data = client.get_task_records(limit=limit, task_type=task_type)
        rows = [(t["task_id"], t["task_type"], t["status"], t["progress"], t["duration"], t["reward"])
                for t in data["tasks"]]
        headers = ("TASK", "TYPE", "STATUS", "PROGRESS", "DURATION", "REWARD")
    else:
        data = client.get_tasks()
        rows = [(t["task_id"], t["task_type"], t["status"], t["progress"], t["priority"], t["start_time"])
                for t in data["current_tasks"].values()]
        headers = ("TASK", "TYPE", "STATUS", "PROGRESS", "PRIORITY", "STARTED")
    if wants_json(as_json):
        emit_json(data)
    elif rows:
        table(headers, rows)
    else:
        click.echo("No tasks.")


@tasks.command("start")
@click.argument("task_type")
@click.option("--config", "-c", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A config value (JSON where it parses); repeatable.")
@click.option("--config-json", default=None, help="The whole config as a JSON object.")
@click.option("--priority", type=click.IntRange(1, 10), default=None, help="1-10, higher runs first.")
@click.option("--wait", is_flag=True, help="Show live progress until the task ends; exit 3 if it fails.")
@TIMEOUT_OPTION
@json_option
@reports_errors
def tasks_start(task_type: str, pairs: tuple[str, ...], config_json: str | None, priority: int | None,
                wait: bool, timeout: float | None, as_json: bool) -> None:
    """Start a task of TASK_TYPE (see `tasks types`)."""
    config: dict[str, Any] = {}
    if config_json:
        try:
            config = json.loads(config_json)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--config-json") from exc
        if not isinstance(config, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--config-json")
    config.update(parse_pairs(pairs, "--config"))
    started = agent_client().start_task(task_type, config, priority)
    if wait:
        if not wants_json(as_json):
            click.echo(f"Task {started['task_id']} ({started['task_type']}) {started['status']}.", err=True)
        _watch(started["task_id"], timeout, as_json)
        return
    if wants_json(as_json):
        emit_json(started)
    else:
        click.echo(f"Task {started['task_id']} ({started['task_type']}) {started['status']}, "
                   f"about {format_value(started.get('estimated_duration'))} s.")


@tasks.command("watch")
@click.argument("task_id")
@TIMEOUT_OPTION
@json_option
@reports_errors
def tasks_watch(task_id: str, timeout: float | None, as_json: bool) -> None:
    """Show a task's live progress until it ends; exit 3 if it fails or is cancelled."""
    _watch(task_id, timeout, as_json)


def _watch(task_id: str, timeout: float | None, as_json: bool) -> None:
    """Follow a task over Socket.IO, then print its final record; failed or cancelled exits 3."""
    line = ProgressLine(task_id)
    try:
        record = agent_client().wait_for_task(task_id, on_progress=line.update, timeout=timeout)
    finally:
        line.finish()
    _print_record(record, as_json)
    if record["status"] != "completed":
        click.get_current_context().exit(EXIT_TASK_FAILED)


def _print_record(record: dict[str, Any], as_json: bool) -> None:
    if wants_json(as_json):
        emit_json(record)
        return
    pairs: list[tuple[str, Any]] = [
        ("task", record["task_id"]), ("type", record["task_type"]), ("status", record["status"]),
        ("progress", f"{record['progress']:.1f}%"), ("priority", record.get("priority")),
        ("started", record.get("start_time")), ("ended", record.get("end_time")),
        ("duration", record.get("duration")), ("reward", record.get("reward")),
    ]
    if record.get("error"):
        pairs.append(("error", record["error"]))
    for key, value in (record.get("ai_result") or record.get("result") or {}).items():
        pairs.append((key, value))
    key_values(pairs)


@tasks.command("show")
@click.argument("task_id")
@json_option
@reports_errors
def tasks_show(task_id: str, as_json: bool) -> None:
    """One task's record."""
    _print_record(agent_client().get_task(task_id), as_json)


def _state_command(name: str, action: str, help_text: str) -> click.Command:
    @click.argument("task_id")
    @json_option
    @reports_errors
    def command(task_id: str, as_json: bool) -> None:
        reply = getattr(agent_client(), action)(task_id)
        if wants_json(as_json):
            emit_json(reply)
        else:
            click.echo(f"Task {reply['task_id']} {reply['status']}.")

    command.__doc__ = help_text
    return tasks.command(name)(command)


_state_command("cancel", "cancel_task", "Cancel a task (exit 1 with CONFLICT when it already ended).")
_state_command("pause", "pause_task", "Pause a task at its next step.")
_state_command("resume", "resume_task", "Resume a paused task.")


@tasks.command("types")
@json_option
@reports_errors
def tasks_types(as_json: bool) -> None:
    """Task types the agent runs, with their config keys."""
    data = agent_client().get_task_types()
    if wants_json(as_json):
        emit_json(data)
        return
    table(("TYPE", "TRAINING", "CONFIG KEYS"),
          [(t["name"], t["training"], ", ".join(sorted(t["config"]))) for t in data["task_types"]])
