"""Turning a node's revert into the reason a person can read (require strings and custom errors)."""

from __future__ import annotations

from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector

_PREFIXES = ("execution reverted: ", "execution reverted", "VM Exception while processing transaction: revert ")


def revert_reason(exc: Exception, abis: list[list[dict[str, Any]]]) -> str:
    """The require() message, or `ErrorName(args)` for a custom error found in the ABIs."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        decoded = decode_custom_error(data, abis)
        if decoded:
            return decoded
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(message, dict):
        message = message.get("message", str(message))
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message.strip() or "reverted without a reason"


def decode_custom_error(data: str, abis: list[list[dict[str, Any]]]) -> str | None:
    """Match the 4-byte selector against the ABIs' `error` entries and decode the arguments."""
    selector = bytes.fromhex(data[2:10])
    for abi in abis:
        for entry in abi:
            if entry.get("type") != "error":
                continue
            types = [item["type"] for item in entry.get("inputs", [])]
            if function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") != selector:
                continue
            try:
                values = decode(types, bytes.fromhex(data[10:]))
            except Exception:
                values = ()
            args = ", ".join(str(value) for value in values)
            return f"{entry['name']}({args})"
    return None
