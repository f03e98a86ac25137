"""Agent commands over the API: status, infer, wallet, tx and remote."""

from __future__ import annotations

import json
from typing import Any

import click

from .connection import agent_client
from .output import emit_json, json_option, key_values, parse_pairs, parse_value, reports_errors, table, wants_json


@click.command()
@json_option
@reports_errors
def status(as_json: bool) -> None:
    """The agent's status and health."""
    client = agent_client()
    data = {**client.get_status(), "health": client.get_health()}
    if wants_json(as_json):
        emit_json(data)
        return
    stats, health = data["stats"], data["health"]
    key_values([
        ("agent", data["agent_id"]), ("running", data["running"]), ("registered", data["registered"]),
        ("current tasks", data["current_tasks"]), ("completed", stats["tasks_completed"]),
        ("failed", stats["tasks_failed"]), ("earnings (ETH)", stats["total_earnings"]),
        ("models loaded", data["ai_status"].get("models_loaded")),
        ("wallet", data["blockchain_status"].get("wallet_initialized")),
        ("health", f"{health['status']} ({health['health_score']:.1f})"),
        ("alerts", ", ".join(a["message"] for a in health.get("alerts", [])) or "none"),
    ])


@click.command()
@click.argument("model")
@click.argument("input_text", metavar="INPUT")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE", help="Inference option; repeatable.")
@json_option
@reports_errors
def infer(model: str, input_text: str, options: tuple[str, ...], as_json: bool) -> None:
    """Run MODEL on INPUT (text, or JSON such as a list of numbers)."""
    value = parse_value(input_text)
    # A word that happens to be JSON (true, 12) is still text for a text model; lists and objects are data.
    input_data = value if isinstance(value, (list, dict)) else input_text
    result = agent_client().run_inference(model, input_data, parse_pairs(options, "--option") or None)
    if wants_json(as_json):
        emit_json(result)
        return
    key_values([(key, value) for key, value in result.items() if key != "success"])


@click.command()
@json_option
@reports_errors
def wallet(as_json: bool) -> None:
    """The wallet's address and balances (read from the chain)."""
    data = agent_client().get_balance()
    if wants_json(as_json):
        emit_json(data)
        return
    click.echo(f"Wallet {data['wallet_address']}")
    table(("CURRENCY", "BALANCE"), sorted(data["balances"].items()))
    click.echo(f"Total value: {data['total_value_usd']:.2f} USD")


@click.group(invoke_without_command=True)
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--currency", default=None, help="Only this currency (ETH, PAIN, ...).")
@json_option
@click.pass_context
@reports_errors
def tx(ctx: click.Context, limit: int, page: int, currency: str | None, as_json: bool) -> None:
    """The wallet's transactions, newest first; `tx execute` calls a contract."""
    if ctx.invoked_subcommand is not None:
        return
    data = agent_client().get_transactions(limit=limit, page=page, currency=currency)
    if wants_json(as_json):
        emit_json(data)
        return
    if not data["transactions"]:
        click.echo("No transactions.")
        return
    table(("HASH", "AMOUNT", "CURRENCY", "STATUS", "BLOCK", "TASK"),
          [(t["hash"], t["amount"], t["currency"], t["status"], t.get("block_number"), t.get("task_id"))
           for t in data["transactions"]])
    click.echo(f"Page {data['page']}, {len(data['transactions'])} of {data['total_count']}.")


@tx.command("execute")
@click.argument("contract_type")
@click.argument("method")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Method parameter; repeatable.")
@json_option
@reports_errors
def tx_execute(contract_type: str, method: str, params: tuple[str, ...], as_json: bool) -> None:
    """Call METHOD of CONTRACT_TYPE (task_rewards, PAIN, ...) with the agent's wallet."""
    result = agent_client().execute_contract(contract_type, method, parse_pairs(params, "--param"))
    if wants_json(as_json):
        emit_json(result)
        return
    key_values([(key, value) for key, value in result.items() if key != "success"])


@click.command()
@click.argument("command", required=False)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Command parameter; repeatable.")
@click.option("--command-id", default=None, help="Idempotency id: a repeat returns the first reply.")
@json_option
@reports_errors
def remote(command: str | None, params: tuple[str, ...], command_id: str | None, as_json: bool) -> None:
    """Run a remote management COMMAND (admin); without one, list the commands."""
    client = agent_client()
    if command is None:
        data = client.get_remote_capabilities()
        if wants_json(as_json):
            emit_json(data)
            return
        details: dict[str, Any] = data.get("details") or {}
        table(("COMMAND", "PERMISSION", "DESCRIPTION"),
              [(name, details.get(name, {}).get("permission"), details.get(name, {}).get("description"))
               for name in data["commands"]])
        return
    reply = client.remote_command(command, parse_pairs(params, "--param"), command_id)
    if wants_json(as_json):
        emit_json(reply)
        return
    click.echo(f"{command} ({reply['command_id']}) ok{' (replayed)' if reply.get('replayed') else ''}")
    click.echo(json.dumps(reply.get("result"), indent=2, default=str))
