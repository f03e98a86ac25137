"""Schemas for blockchain operations: status, balances, transactions and contract execution."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..chain.artifacts import NATIVE_CURRENCY, TOKENS

CURRENCIES = [NATIVE_CURRENCY, *TOKENS]


class NetworkStatusSchema(Schema):
    """One network as last probed."""

    name = fields.String()
    chain_id = fields.Integer()
    rpc_url = fields.String()
    status = fields.String(metadata={"description": "connected only if the node answered"})
    block_number = fields.Integer(allow_none=True)
    latency_ms = fields.Float()
    error = fields.String()


class BlockchainEnhancedSchema(Schema):
    """GET /api/v3/blockchain/enhanced."""

    wallet = fields.String(allow_none=True)
    balance = fields.Dict(keys=fields.String(), values=fields.Float())
    connected_networks = fields.Integer()
    smart_contracts = fields.Integer()
    transaction_pool_size = fields.Integer(metadata={"description": "The agent's pending transactions"})
    smart_contracts_enabled = fields.Boolean()
    multi_currency_support = fields.Boolean()
    network_connections = fields.Dict(keys=fields.String(), values=fields.String())
    networks = fields.List(fields.Nested(NetworkStatusSchema))
    contracts = fields.Dict(keys=fields.String(), values=fields.String())
    error = fields.String(allow_none=True)


class BalanceSchema(Schema):
    """GET /api/blockchain/balance."""

    balances = fields.Dict(keys=fields.String(), values=fields.Float())
    total_value_usd = fields.Float(metadata={"description": "From the configured PRICE_TABLE_USD, not a market feed"})
    wallet_address = fields.String()
    network = fields.String()
    price_source = fields.String()


class TransactionsQuerySchema(Schema):
    """Query of GET /api/blockchain/transactions."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    currency = fields.String(load_default=None, validate=validate.OneOf(CURRENCIES))


class TransactionSchema(Schema):
    """One of the wallet's transactions, mirroring its receipt."""

    hash = fields.String()
    amount = fields.Float()
    currency = fields.String()
    task_id = fields.String(allow_none=True)
    timestamp = fields.String()
    status = fields.String(metadata={"description": "pending, confirmed or failed"})
    gas_used = fields.Integer(allow_none=True)
    block_number = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"description": "reward_claim, transfer or contract_call"})
    network = fields.String()
    from_ = fields.String(data_key="from")
    to = fields.String(allow_none=True)
    contract_type = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class TransactionPageSchema(Schema):
    """GET /api/blockchain/transactions."""

    transactions = fields.List(fields.Nested(TransactionSchema))
    total_count = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()


class ContractExecuteSchema(Schema):
    """POST /api/blockchain/smart-contract/execute."""

    contract_type = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                  metadata={"description": "task_rewards, PAIN, AI, USDC or BTC"})
    method = fields.String(required=True, validate=validate.Length(min=1, max=64))
    params = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "By ABI name or its snake_case; amounts in whole units"})


class ContractResultSchema(Schema):
    """The receipt's figures and decoded events, or a view function's value."""

    success = fields.Boolean()
    transaction_hash = fields.String()
    gas_used = fields.Integer()
    block_number = fields.Integer()
    contract_address = fields.String()
    execution_result = fields.Dict()
    method = fields.String()
    call = fields.Boolean(metadata={"description": "True for a read-only call (no transaction)"})
    result = fields.Raw()


class ContractMethodsSchema(Schema):
    """GET /api/v4/blockchain/contracts: each contract type, its address and public methods."""

    contracts = fields.List(fields.Dict())
