"""The agent's blockchain side: embedded EVM node, wallet, contracts, transactions and task rewards."""
