"""Blockchain API: wallet status and balances, transactions, and contract execution."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..chain import calls
from ..chain.ledger import list_transactions
from ..chain.service import chain_service
from ..schemas.blockchain import (
    BalanceSchema,
    BlockchainEnhancedSchema,
    ContractExecuteSchema,
    ContractMethodsSchema,
    ContractResultSchema,
    TransactionPageSchema,
    TransactionsQuerySchema,
)
from ..security import requires
from .routing import api_route

blp = Blueprint("blockchain", __name__, description="Wallet, transactions and smart contracts")


@api_route(blp, "/v3/blockchain/enhanced")
@blp.response(200, BlockchainEnhancedSchema)
def get_blockchain_enhanced() -> dict[str, Any]:
    """Wallet, balances read from the chain, and each network's live status."""
    return chain_service().enhanced()


@api_route(blp, "/blockchain/balance")
@blp.response(200, BalanceSchema)
def get_balance() -> dict[str, Any]:
    """Balances per currency from the chain, valued with the configured price table."""
    return chain_service().balance_report()


@api_route(blp, "/blockchain/transactions")
@blp.arguments(TransactionsQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
def get_transactions(query: dict[str, Any]) -> dict[str, Any]:
    """The wallet's transactions, newest first (from the database: readable while the node is down)."""
    chain_service(require_ready=False)
    return list_transactions(query["limit"], query["page"], query["currency"])


@api_route(blp, "/v4/blockchain/contracts")
@blp.response(200, ContractMethodsSchema)
def get_contracts() -> dict[str, Any]:
    """Each contract type with its address and its ABI's public methods."""
    service = chain_service()
    return {"contracts": [{"contract_type": contract_type, "address": service.primary.contracts.get(contract_type),
                           "methods": calls.public_methods(contract_type)} for contract_type in calls.CONTRACT_TYPES]}


@api_route(blp, "/blockchain/smart-contract/execute", methods=["POST"])
@blp.arguments(ContractExecuteSchema)
@blp.response(200, ContractResultSchema)
@requires("write")
def execute_contract(body: dict[str, Any]) -> dict[str, Any]:
    """Call a contract's public method with the agent's wallet; a revert is a 409 with its reason."""
    return calls.execute(chain_service(), body["contract_type"], body["method"], body["params"])
