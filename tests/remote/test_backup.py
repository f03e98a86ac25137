"""backup_data writes one verifiable archive; the CLI restores it into a working instance."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from agent_support import admin_key_of
from click.testing import CliRunner

from ultimate_agent.cli import main
from ultimate_agent.remote.backup import RestoreError, restore_backup

from .conftest import task_row, wait_until


def restore_cli(instance: Path, *args: str):
    return CliRunner().invoke(main, ["backup", "restore", *args],
                              env={"ULTIMATE_AGENT_INSTANCE_PATH": str(instance)})


def test_backup_restores_into_a_working_instance(app, app_factory, remote, tmp_path):
    task_id = remote("start_task", type="neural_network_training", config={"epochs": 1})["result"]["task_id"]
    wait_until(lambda: task_row(app, task_id).get("status") == "completed", what="task completion")
    remote("update_config", values={"AGENT_NAME": "backed-up"})
    chain_dir = Path(app.instance_path) / "chain"
    chain_dir.mkdir()
    (chain_dir / "keystore.json").write_text('{"address": "0xabc"}')

    result = remote("backup_data")["result"]
    archive = Path(result["archive"])
    assert archive.parent == Path(app.instance_path) / "backups" and archive.name.endswith(".tar.gz")
    assert result["size_bytes"] == archive.stat().st_size
    assert result["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert {"agent.db", "config.json", "agent_id", "chain/", "models/"} <= set(result["contents"])
    assert archive.stat().st_mode & 0o077 == 0

    fresh = tmp_path / "restored"
    outcome = restore_cli(fresh, str(archive))
    assert outcome.exit_code == 0, outcome.output
    assert "Restored" in outcome.output

    restored = app_factory(INSTANCE_PATH=str(fresh))
    assert restored.config["AGENT_ID"] == app.config["AGENT_ID"]
    assert restored.config["AGENT_NAME"] == "backed-up"
    assert (fresh / "chain" / "keystore.json").read_text() == '{"address": "0xabc"}'
    key = admin_key_of(app)
    client = restored.test_client()
    record = client.get(f"/api/v4/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert record["status"] == "completed" and record["ai_result"]["epochs"] == 1
    original_models = sorted(p.relative_to(app.instance_path) for p in (Path(app.instance_path) / "models").rglob("*"))
    assert original_models and original_models == sorted(p.relative_to(fresh) for p in (fresh / "models").rglob("*"))


def test_restore_refuses_to_overwrite_an_instance_without_force(app, remote, tmp_path):
    archive = remote("backup_data")["result"]["archive"]
    refused = restore_cli(Path(app.instance_path), archive)
    assert refused.exit_code != 0 and "--force" in refused.output


def test_restore_replaces_the_database_and_drops_a_stale_wal_with_force(app, app_factory, remote, tmp_path):
    archive = remote("backup_data")["result"]["archive"]
    target = tmp_path / "target"
    other = app_factory(INSTANCE_PATH=str(target))  # an unrelated agent already lives there
    other_id = other.config["AGENT_ID"]
    from ultimate_agent.extensions import db

    with other.app_context():
        db.engine.dispose()
    assert restore_cli(target, archive, "--force").exit_code == 0
    assert not (target / "agent.db-wal").exists()
    assert (target / "agent_id").read_text().strip() == app.config["AGENT_ID"] != other_id


def _archive_with(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member_name, data in (("manifest.json", b"{}"), (name, b"x")):
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/evil", "unexpected.txt"])
def test_restore_rejects_archives_with_unsafe_or_foreign_entries(tmp_path, name):
    with pytest.raises(RestoreError):
        restore_backup(_archive_with(tmp_path, name), tmp_path / "instance")
    assert not (tmp_path / "outside.txt").exists()


def test_restore_rejects_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    outcome = restore_cli(tmp_path / "instance", str(junk))
    assert outcome.exit_code != 0 and "not a readable backup archive" in outcome.output


def test_backup_snapshot_carries_a_manifest(app, remote):
    archive = remote("backup_data")["result"]["archive"]
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["agent_id"] == app.config["AGENT_ID"] and manifest["database"] == "sqlite"


def test_backup_asks_the_chain_service_to_persist_its_state_first(app, remote):
    """A stand-in for the chain service (another module) that writes its state when asked."""

    class Chain:
        def persist_state(self):
            folder = Path(app.instance_path) / "chain"
            folder.mkdir(exist_ok=True)
            (folder / "node_state.json").write_text('{"block": 7}')

    app.extensions["chain"] = Chain()
    try:
        archive = remote("backup_data")["result"]["archive"]
    finally:
        del app.extensions["chain"]
    with tarfile.open(archive) as tar:
        assert json.loads(tar.extractfile("chain/node_state.json").read()) == {"block": 7}


def test_a_backup_of_an_embedded_chain_restores_the_wallet_and_its_on_chain_history(app_factory, tmp_path):
    original = app_factory(INSTANCE_PATH=str(tmp_path / "original"), CHAIN_ENABLED=True, WALLET_SCRYPT_N=1024)
    chain = original.extensions["chain"]
    headers = {"Authorization": f"Bearer {(tmp_path / 'original' / 'admin_api_key').read_text().strip()}"}
    client = original.test_client()
    claim = {"contract_type": "task_rewards", "method": "claimReward",
             "params": {"task_id": "before-backup", "amount": 0.01}}
    paid = client.post("/api/blockchain/smart-contract/execute", headers=headers, json=claim)
    assert paid.status_code == 200
    balances = client.get("/api/blockchain/balance", headers=headers).get_json()["balances"]
    reply = client.post("/api/v4/remote/command", headers=headers, json={"command_type": "backup_data"}).get_json()
    archive = reply["result"]["archive"]
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"chain/keystore.json", "chain/state.hex", "chain/contracts.json"} <= names
    assert "chain/node.json" not in names  # it names this process's node, not the instance's
    chain.stop()

    fresh = tmp_path / "restored"
    assert restore_cli(fresh, archive).exit_code == 0
    restored = app_factory(INSTANCE_PATH=str(fresh), CHAIN_ENABLED=True)
    restored_chain = restored.extensions["chain"]
    assert restored_chain.wallet.address == chain.wallet.address
    w3 = restored_chain.primary.web3
    assert w3.eth.get_transaction_receipt(paid.get_json()["transaction_hash"])["status"] == 1
    assert restored.test_client().get("/api/blockchain/balance", headers=headers).get_json()["balances"] == balances
