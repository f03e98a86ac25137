"""Local commands: serve the agent and manage its instance folder directly (keys, database, backups)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .output import emit_json, json_option, wants_json

if TYPE_CHECKING:
    from flask import Flask

PERMISSION_CHOICES = click.Choice(["read", "write", "admin"])


def _local_app() -> Flask:
    """The agent app for local maintenance: same instance folder and database, no background work."""
    from .. import create_app

    return create_app({"MONITOR_AUTOSTART": False, "TASKS_AUTOSTART": False, "AI_MODELS_AUTOLOAD": False,
                       "NETWORK_CLIENT_AUTOSTART": False})


def _echo(data: Any, as_json: bool, table: list[tuple[str, ...]] | None = None) -> None:
    if as_json or table is None:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


@click.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8080")), type=int, show_default="8080")
@click.option("--threads", default=64, show_default=True, help="Threads: one per WebSocket plus HTTP.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the agent with gunicorn (one gthread worker), as `make run` does."""
    args = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", str(threads),
            "-b", f"{host}:{port}", "--graceful-timeout", "30", "wsgi:app"]
    os.execv(sys.executable, args)  # noqa: S606 (replace this process with the server)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys of the local instance."""


@keys.command("create")
@click.option("--name", required=True, help="What the key is for.")
@click.option("--permission", "permissions", multiple=True, type=PERMISSION_CHOICES, default=("read",),
              show_default=True, help="Repeatable; admin implies write implies read.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_create(name: str, permissions: tuple[str, ...], as_json: bool) -> None:
    """Create a key and print its secret once."""
    from ..security.keys import create_key, describe_key

    with _local_app().app_context():
        key, raw = create_key(name, list(permissions), actor="cli")
        info = {**describe_key(key), "key": raw}
    if as_json:
        _echo(info, True)
    else:
        click.echo(f"Created key {info['id']} ({name}) with {', '.join(info['permissions'])}.")
        click.echo(f"Key (shown once): {raw}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys_list(as_json: bool) -> None:
    """List keys (never their secrets)."""
    from ..security.keys import describe_key, list_keys

    with _local_app().app_context():
        rows = [describe_key(key) for key in list_keys()]
    table = [("ID", "NAME", "PREFIX", "PERMISSIONS", "REVOKED")] + [
        (str(r["id"]), r["name"], r["prefix"], ",".join(r["permissions"]), "yes" if r["revoked"] else "no")
        for r in rows
    ]
    _echo(rows, as_json, table)


@keys.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke a key by id; tokens minted from it stop working."""
    from ..errors import NotFound
    from ..security.keys import revoke_key

    with _local_app().app_context():
        try:
            revoke_key(key_id, actor="cli")
        except NotFound as exc:
            raise click.ClickException(f"No API key with id {key_id}") from exc
    click.echo(f"Revoked key {key_id}.")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the agent also does this at start-up)."""
    from flask_migrate import upgrade

    from ..app import MIGRATIONS_DIR

    app = _local_app()  # create_app already upgrades; running it again is a no-op check
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    click.echo(f"Database at {app.config['SQLALCHEMY_DATABASE_URI']} is up to date.")


def _instance_folder() -> Path:
    """The instance folder create_app would use, found without starting the agent."""
    from ..client.credentials import local_instance_path

    return local_instance_path()


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def backup(ctx: click.Context, as_json: bool) -> None:
    """Back up the local instance (`backup` alone = `backup create`); `backup restore` puts one back.

    A running agent can also back itself up: `ultimate-agent remote backup_data`.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(backup_create, as_json=as_json)


@backup.command("create")
@json_option
def backup_create(as_json: bool) -> None:
    """Write a backup archive under instance/backups/ (as the backup_data remote command does)."""
    from ..remote.backup import create_backup

    app = _local_app()
    with app.app_context():
        result = create_backup(app)
    if wants_json(as_json):
        emit_json(result)
        return
    click.echo(f"Backup {result['archive']} ({result['size_bytes']} bytes, sha256 {result['sha256']})")


@backup.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the instance's existing database and data.")
def backup_restore(archive: Path, force: bool) -> None:
    """Restore a backup archive into the instance folder (stop the agent first)."""
    from ..remote.backup import RestoreError, restore_backup

    try:
        result = restore_backup(archive, _instance_folder(), force=force)
    except RestoreError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = result["manifest"]
    click.echo(f"Restored {', '.join(result['restored'])} of agent {manifest.get('agent_id')} "
               f"(backup of {manifest.get('created_at')}) into {result['instance_path']}.")

