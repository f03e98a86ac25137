"""The wallet: created once, kept only as an encrypted 0600 keystore, the key never shown."""

from __future__ import annotations

import json
import stat

from web3 import Web3

from ultimate_agent.chain.wallet import KEYSTORE_FILE, PASSWORD_FILE, load_or_create_wallet


def test_first_start_creates_an_encrypted_keystore_readable_only_by_the_owner(tmp_path):
    wallet = load_or_create_wallet(tmp_path, scrypt_n=2**10)
    keystore = tmp_path / KEYSTORE_FILE
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / PASSWORD_FILE).stat().st_mode) == 0o600
    content = json.loads(keystore.read_text())
    assert content["crypto"]["kdf"] == "scrypt"
    assert wallet.account.key.hex().removeprefix("0x") not in keystore.read_text()
    assert Web3.is_checksum_address(wallet.address)


def test_the_same_wallet_opens_at_every_start(tmp_path):
    first = load_or_create_wallet(tmp_path, scrypt_n=2**10)
    second = load_or_create_wallet(tmp_path, scrypt_n=2**10)
    assert first.address == second.address


def test_a_configured_password_is_used_and_no_password_file_is_written(tmp_path):
    wallet = load_or_create_wallet(tmp_path, password="correct horse", scrypt_n=2**10)
    assert not (tmp_path / PASSWORD_FILE).exists()
    assert load_or_create_wallet(tmp_path, password="correct horse", scrypt_n=2**10).address == wallet.address


def test_the_key_is_not_in_the_wallets_repr(tmp_path):
    wallet = load_or_create_wallet(tmp_path, scrypt_n=2**10)
    assert repr(wallet) == f"Wallet({wallet.address})"
    assert wallet.account.key.hex().removeprefix("0x") not in repr(wallet)
