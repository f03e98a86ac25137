"""The agent's wallet: a key made at first start, kept only as an encrypted keystore (mode 0600)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..security.instance_secrets import SECRET_FILE_MODE, read_or_create

KEYSTORE_FILE = "keystore.json"
PASSWORD_FILE = "wallet_password"  # noqa: S105  (a file name, not a password)


class Wallet:
    """Holds the agent's signing account; the key is never logged, returned or written in clear."""

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @property
    def address(self) -> str:
        """The checksummed address."""
        return self._account.address

    @property
    def account(self) -> LocalAccount:
        """The signer, for the transaction sender only."""
        return self._account

    def __repr__(self) -> str:  # never show the key, even in a debugger or a log line
        return f"Wallet({self.address})"


def load_or_create_wallet(chain_dir: Path, password: str | None = None, scrypt_n: int = 2**18) -> Wallet:
    """Open the instance's keystore, creating the key and keystore at first start."""
    chain_dir.mkdir(parents=True, exist_ok=True)
    if not password:
        # Unattended nodes cannot type a password; it lives beside the keystore, 0600, unless configured.
        password, _ = read_or_create(chain_dir / PASSWORD_FILE, lambda: secrets.token_urlsafe(32))
    keystore_path = chain_dir / KEYSTORE_FILE
    if not keystore_path.exists():
        account = Account.create()
        keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
        try:
            # O_EXCL: a second process starting at the same moment keeps the first one's key.
            fd = os.open(keystore_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(keystore, handle)
    if keystore_path.stat().st_mode & 0o077:
        os.chmod(keystore_path, SECRET_FILE_MODE)
    keystore = json.loads(keystore_path.read_text(encoding="utf-8"))
    return Wallet(Account.from_key(Account.decrypt(keystore, password)))
