"""EVM networks the agent talks to: the embedded node and any configured `{name, chain_id, rpc_url}`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from .errors import ChainUnavailable

EMBEDDED_NETWORK = "embedded"


@dataclass
class Network:
    """One EVM JSON-RPC endpoint, reached over HTTP by web3 like every other."""

    name: str
    chain_id: int
    rpc_url: str
    contracts: dict[str, str] = field(default_factory=dict)
    embedded: bool = False
    timeout: float = 10.0
    # Where the contracts' history starts: log scans begin here (providers cap the ranges they search).
    from_block: int = 0
    _web3: Web3 | None = field(default=None, repr=False)

    @property
    def web3(self) -> Web3:
        """A web3 client for this network; no automatic retries, so a down node fails fast."""
        if self._web3 is None:
            provider = Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": self.timeout},
                                         exception_retry_configuration=None)
            self._web3 = Web3(provider)
        return self._web3

    def probe(self, timeout: float = 2.0) -> dict[str, Any]:
        """Ask the node for its chain id and block: `status` is `connected` only if it answered."""
        started = time.perf_counter()
        probe = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": timeout},
                                       exception_retry_configuration=None))
        entry: dict[str, Any] = {"name": self.name, "chain_id": self.chain_id, "rpc_url": self.rpc_url,
                                 "status": "disconnected", "block_number": None}
        try:
            chain_id = probe.eth.chain_id
            block = probe.eth.block_number
        except Exception as exc:  # any transport or RPC failure means "not connected", never a 500
            entry["error"] = _short(exc)
            return entry
        if chain_id != self.chain_id:
            entry.update(status="wrong_chain", error=f"node reports chain id {chain_id}")
            return entry
        entry.update(status="connected", block_number=block,
                     latency_ms=round((time.perf_counter() - started) * 1000, 2))
        return entry

    def require_contract(self, contract_type: str) -> str:
        """The address of a contract on this network, or a clear 503 when it has none."""
        address = self.contracts.get(contract_type)
        if not address:
            raise ChainUnavailable(f"No {contract_type} contract is configured on network {self.name}")
        return address


def configured_networks(config: list[dict[str, Any]], timeout: float) -> list[Network]:
    """Build the networks listed in CHAIN_NETWORKS (validated by the config loader)."""
    return [Network(name=entry["name"], chain_id=int(entry["chain_id"]), rpc_url=entry["rpc_url"],
                    contracts=dict(entry.get("contracts") or {}), timeout=timeout,
                    from_block=int(entry.get("from_block") or 0)) for entry in config]


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."
