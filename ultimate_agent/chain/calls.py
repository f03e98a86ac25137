"""Contract calls and transfers the API and the blockchain task types make with the agent's wallet."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from ..errors import InvalidRequest
from ..extensions import db
from ..models import ChainTransaction
from .artifacts import NATIVE_CURRENCY, NATIVE_DECIMALS, TASK_REWARDS, TOKENS, abi_of, contract_name_for, decimals_for
from .deploy import to_units
from .errors import ChainUnavailable, TransactionReverted
from .ledger import from_units, record_sent
from .reverts import revert_reason

if TYPE_CHECKING:
    from .service import ChainService

CONTRACT_TYPES = (TASK_REWARDS, *TOKENS)
# uint parameters with these names are amounts in the contract's currency (ETH for the rewards pool,
# the token's units otherwise) and are given in whole units, e.g. 0.25; every other uint is a raw integer.
AMOUNT_PARAMS = {"amount", "value", "maxRewardPerClaim"}
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


def normalise_contract_type(contract_type: str) -> str:
    """`task_rewards`, or a token currency in any case (`pain` -> `PAIN`); 400 for anything else."""
    if contract_type == TASK_REWARDS:
        return contract_type
    if contract_type.upper() in TOKENS:
        return contract_type.upper()
    raise InvalidRequest(f"Unknown contract_type {contract_type!r}",
                         details={"field": "contract_type", "allowed": list(CONTRACT_TYPES)})


def public_methods(contract_type: str) -> list[dict[str, Any]]:
    """The contract's public functions from its ABI (name, inputs, whether it changes state)."""
    return [{"name": entry["name"], "inputs": [{"name": item["name"], "type": item["type"]}
                                               for item in entry["inputs"]],
             "state_mutability": entry["stateMutability"]}
            for entry in abi_of(contract_name_for(contract_type)) if entry.get("type") == "function"]


def task_key(task_id: str) -> bytes:
    """The bytes32 a task id is known by on chain: keccak256 of its text (or the id itself if already 32 bytes)."""
    if _HEX32.match(task_id):
        return bytes.fromhex(task_id[2:])
    return Web3.keccak(text=task_id)


def coerce_params(contract_type: str, function_abi: dict[str, Any], params: dict[str, Any]) -> list[Any]:
    """Validate `params` against the function's inputs (by ABI name or its snake_case) and convert them."""
    decimals = decimals_for(contract_type)
    inputs = function_abi["inputs"]
    aliases = {_snake(item["name"]): item["name"] for item in inputs}
    given: dict[str, Any] = {}
    for key, value in params.items():
        name = key if any(item["name"] == key for item in inputs) else aliases.get(key)
        if name is None:
            raise InvalidRequest(f"{function_abi['name']} takes no parameter {key!r}",
                                 details={"field": f"params.{key}",
                                          "expected": [_snake(item["name"]) for item in inputs]})
        given[name] = value
    args = []
    for item in inputs:
        field = f"params.{_snake(item['name'])}"
        if item["name"] not in given:
            raise InvalidRequest(f"Missing parameter {_snake(item['name'])!r} ({item['type']})",
                                 details={"field": field})
        args.append(_coerce(item, given[item["name"]], decimals, field))
    return args


def resolve_call(contract_type: str, method: str, params: dict[str, Any]) -> tuple[str, dict[str, Any], list[Any]]:
    """Check a call against the ABI without touching the chain: (contract type, function ABI, arguments)."""
    contract_type = normalise_contract_type(contract_type)
    abi = abi_of(contract_name_for(contract_type))
    function_abi = next((entry for entry in abi if entry.get("type") == "function" and entry["name"] == method), None)
    if function_abi is None:
        raise InvalidRequest(f"{contract_type} has no public method {method!r}",
                             details={"field": "method", "allowed": [m["name"] for m in public_methods(contract_type)]})
    return contract_type, function_abi, coerce_params(contract_type, function_abi, params)


def execute(service: ChainService, contract_type: str, method: str, params: dict[str, Any],
            origin_task: str | None = None) -> dict[str, Any]:
    """Call a view function, or send a transaction and return its receipt's figures and decoded events.

    `origin_task`: the task making the call; a task resumed after a crash finds its transaction
    already sent and waits for it instead of sending a second one.
    """
    contract_type, function_abi, args = resolve_call(contract_type, method, params)
    network = service.primary
    address = network.require_contract(contract_type)
    abi = abi_of(contract_name_for(contract_type))
    contract = network.web3.eth.contract(address=address, abi=abi)
    if function_abi["stateMutability"] in ("view", "pure"):
        try:
            value = contract.functions[method](*args).call({"from": service.wallet.address})
        except (ContractLogicError, ContractCustomError) as exc:
            raise TransactionReverted(revert_reason(exc, service.abis)) from exc
        except Exception as exc:
            raise ChainUnavailable(f"The chain node did not answer: {exc}") from exc
        return {"success": True, "contract_address": address, "method": method, "call": True,
                "result": _json_value(value)}
    # The sender estimates the gas, which is also where a revert is caught before anything is sent.
    tx = {"to": address, "data": contract.encode_abi(method, args), "value": 0}
    amount_units = next((arg for item, arg in zip(function_abi["inputs"], args, strict=True)
                         if item["name"] in AMOUNT_PARAMS), 0)
    task_id = params.get("task_id") if isinstance(params.get("task_id"), str) else None
    currency = NATIVE_CURRENCY if contract_type == TASK_REWARDS else contract_type
    tx_hash, receipt = _send_once(service, tx, "contract_call", currency, amount_units, decimals_for(contract_type),
                                  origin_task or task_id, origin_task, contract_type=contract_type, method=method)
    events = decode_events(contract, abi, receipt)
    result = {"success": True, "transaction_hash": tx_hash, "gas_used": int(receipt["gasUsed"]),
              "block_number": int(receipt["blockNumber"]), "contract_address": address,
              "execution_result": {"events": events}}
    claim = next((event for event in events if event["event"] == "RewardClaimed"), None)
    if claim is not None:
        reward = from_units(int(claim["args"]["amount"]), NATIVE_DECIMALS)
        result["execution_result"].update(reward_claimed=reward, task_id=task_id or claim["args"]["taskId"],
                                          recipient=claim["args"]["recipient"],
                                          claim_timestamp=int(claim["args"]["timestamp"]))
        if claim["args"]["recipient"] == service.wallet.address:
            service.record_manual_reward(task_id, reward, tx_hash, receipt)
    return result


def transfer(service: ChainService, currency: str, to: str, amount: float | str,
             task_id: str | None = None) -> dict[str, Any]:
    """Send `amount` of `currency` (ETH or a token) from the wallet to `to`; waits for the receipt.

    With `task_id`, the task's transfer is sent once: a resumed task waits for the one already sent.
    """
    currency = currency.upper()
    if currency != NATIVE_CURRENCY and currency not in TOKENS:
        raise InvalidRequest(f"Unknown currency {currency!r}",
                             details={"field": "currency", "allowed": [NATIVE_CURRENCY, *TOKENS]})
    if not Web3.is_address(to):
        raise InvalidRequest("`to` is not an address", details={"field": "to"})
    to = Web3.to_checksum_address(to)
    decimals = NATIVE_DECIMALS if currency == NATIVE_CURRENCY else TOKENS[currency].decimals
    units = _amount_units(amount, decimals, "amount")
    network = service.primary
    if currency == NATIVE_CURRENCY:
        tx = {"to": to, "value": units}
    else:
        token = network.web3.eth.contract(address=network.require_contract(currency), abi=abi_of("AgentToken"))
        tx = {"to": token.address, "data": token.encode_abi("transfer", [to, units]), "value": 0}
    tx_hash, receipt = _send_once(service, tx, "transfer", currency, units, decimals, task_id, task_id, to=to)
    return {"success": True, "transaction_hash": tx_hash, "currency": currency, "amount": from_units(units, decimals),
            "from": service.wallet.address, "to": to, "gas_used": int(receipt["gasUsed"]),
            "block_number": int(receipt["blockNumber"]), "status": "confirmed"}


def _send_once(service: ChainService, tx: dict[str, Any], kind: str, currency: str, units: int, decimals: int,
               task_id: str | None, origin_task: str | None, to: str | None = None,
               contract_type: str | None = None, method: str | None = None) -> tuple[str, dict[str, Any]]:
    """Send, record and confirm a transaction; for a task, at most one per kind however often it runs."""
    if origin_task:
        existing = db.session.scalar(db.select(ChainTransaction).where(
            ChainTransaction.task_id == origin_task, ChainTransaction.kind == kind))
        if existing is not None:
            return existing.tx_hash, service.confirm(existing.tx_hash)
    sent = service.sender.send(tx)
    row = record_sent(sent, service.primary.name, kind, currency, units, decimals, task_id=task_id,
                      contract_type=contract_type, method=method)
    if to is not None:
        row.to_address = to  # a token transfer's `to` is the token contract; the payee is what people look for
        db.session.commit()
    return sent.tx_hash, service.confirm(sent.tx_hash)


def decode_events(contract: Any, abi: list[dict[str, Any]], receipt: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event of this contract in the receipt, decoded by the ABI."""
    events = []
    for entry in abi:
        if entry.get("type") != "event":
            continue
        for log in contract.events[entry["name"]]().process_receipt(receipt, errors=DISCARD):
            args = {key: _json_value(value) for key, value in log["args"].items()}
            events.append({"event": log["event"], "log_index": log["logIndex"], "args": args})
    return sorted(events, key=lambda event: event["log_index"])


def _coerce(item: dict[str, Any], value: Any, decimals: int, field: str) -> Any:
    kind = item["type"]
    if kind == "address":
        if not isinstance(value, str) or not Web3.is_address(value):
            raise InvalidRequest(f"{field} must be an address", details={"field": field})
        return Web3.to_checksum_address(value)
    if kind == "bytes32":
        if not isinstance(value, str) or not value:
            raise InvalidRequest(f"{field} must be a non-empty string", details={"field": field})
        return task_key(value)
    if kind.startswith("uint") or kind.startswith("int"):
        if item["name"] in AMOUNT_PARAMS:
            return _amount_units(value, decimals, field)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InvalidRequest(f"{field} must be an integer", details={"field": field})
        try:
            number = int(value)
        except ValueError as exc:
            raise InvalidRequest(f"{field} must be an integer", details={"field": field}) from exc
        if kind.startswith("uint") and number < 0:
            raise InvalidRequest(f"{field} must not be negative", details={"field": field})
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidRequest(f"{field} must be true or false", details={"field": field})
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise InvalidRequest(f"{field} must be a string", details={"field": field})
        return value
    raise InvalidRequest(f"{field}: parameters of type {kind} are not supported", details={"field": field})


def _amount_units(value: Any, decimals: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidRequest(f"{field} must be a number", details={"field": field})
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidRequest(f"{field} must be a number", details={"field": field}) from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"{field} must be a non-negative number", details={"field": field})
    units = amount.scaleb(decimals)
    if units != units.to_integral_value():
        raise InvalidRequest(f"{field} has more than {decimals} decimals", details={"field": field})
    return to_units(amount, decimals)


def _json_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, bytes):
        return Web3.to_hex(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # Above 2**53 a JavaScript client would lose digits: big integers travel as text.
        return value if abs(value) < 2**53 else str(value)
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.rstrip("_")).lower()

