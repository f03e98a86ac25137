"""The `ultimate-agent` command: serve the agent, manage its instance, and drive it through its API."""

from __future__ import annotations

import click

from ..client.credentials import API_KEY_ENV, DEFAULT_URL, URL_ENV
from .agent import infer, remote, status, tx, wallet
from .local import backup, backup_restore, db, keys, serve
from .output import EXIT_CODES_HELP
from .tasks import tasks


@click.group(epilog=EXIT_CODES_HELP)
@click.option("--url", envvar=URL_ENV, default=DEFAULT_URL, show_default=True, show_envvar=True,
              help="The agent's base URL.")
@click.option("--api-key", envvar=API_KEY_ENV, default=None, show_envvar=True,
              help="API key or token; default: the local agent's admin key file (local URLs only).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for each answer.")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Retries after 429, 503 and (for reads) other 5xx or dropped connections.")
@click.option("--json", "as_json", is_flag=True, help="JSON output for every command (as each one's --json).")
@click.option("--socket-transport", type=click.Choice(["auto", "websocket", "polling"]), default="auto",
              show_default=True, help="Live events: polling where a proxy does not pass WebSocket.")
@click.version_option(package_name="ultimate-agent", prog_name="ultimate-agent")
def main(url: str, api_key: str | None, timeout: float, retries: int, as_json: bool,
         socket_transport: str) -> None:
    """Ultimate Agent: a compute-node agent for a decentralised AI network."""


for command in (serve, keys, db, backup, status, tasks, infer, wallet, tx, remote):
    main.add_command(command)
main.add_command(backup_restore, "restore")

__all__ = ["main"]
