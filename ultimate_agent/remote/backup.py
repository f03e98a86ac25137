"""backup_data and restore: one archive holding the database, keystore, chain state, models and config."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url

from .. import __version__
from ..extensions import db
from ..models.base import isoformat, utcnow
from .registry import Command, CommandFailed

BACKUP_DIR = "backups"
MANIFEST = "manifest.json"
DATABASE_MEMBER = "agent.db"
# Instance files and folders a restored agent needs to be the same agent: identity and signing keys,
# the configuration, the chain (keystore, node state, contract addresses), models and task checkpoints.
INSTANCE_FILES = ("config.json", "agent_id", "secret_key", "jwt_secret_key", "admin_api_key")
INSTANCE_DIRS = ("chain", "models", "checkpoints")


class RestoreError(Exception):
    """An archive that cannot be restored (not ours, damaged, or unsafe paths)."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_file(app: Flask) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _snapshot_database(app: Flask, target: Path) -> bool:
    """Copy the SQLite database with the online backup API: a consistent copy while writers run."""
    source_file = _sqlite_file(app)
    if source_file is None:
        return False
    db.session.commit()
    source = sqlite3.connect(source_file)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    return True


# Files that describe this running process, not the instance: a restored node.json would point a new
# agent at whatever process now has that pid and port.
RUNTIME_FILES = {"chain/node.json", "chain/anvil.log", "chain/state.tmp"}


def _skip_runtime_files(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if member.name in RUNTIME_FILES else member


def create_backup(app: Flask) -> dict[str, Any]:
    """Write instance/backups/backup-<time>.tar.gz; returns its path, size, sha256 and contents."""
    chain = app.extensions.get("chain")
    if chain is not None and hasattr(chain, "persist_state"):
        chain.persist_state()  # the chain's files are current before they are copied
    instance = Path(app.instance_path)
    folder = instance / BACKUP_DIR
    folder.mkdir(parents=True, exist_ok=True)
    created = utcnow()
    name = f"backup-{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}.tar.gz"
    archive = folder / name
    partial = folder / f".{name}.partial"
    included: list[str] = []
    with tempfile.TemporaryDirectory(dir=folder) as staging:
        snapshot = Path(staging) / DATABASE_MEMBER
        has_database = _snapshot_database(app, snapshot)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds keys
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            if has_database:
                tar.add(snapshot, arcname=DATABASE_MEMBER)
                included.append(DATABASE_MEMBER)
            for item in INSTANCE_FILES:
                if (instance / item).is_file():
                    tar.add(instance / item, arcname=item)
                    included.append(item)
            for item in INSTANCE_DIRS:
                if (instance / item).is_dir():
                    tar.add(instance / item, arcname=item, filter=_skip_runtime_files)
                    included.append(f"{item}/")
            manifest = {"format": 1, "agent_id": app.config["AGENT_ID"], "agent_version": __version__,
                        "created_at": isoformat(created), "contents": included,
                        "database": "sqlite" if has_database else "not included (not SQLite)"}
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(created.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
    os.replace(partial, archive)
    return {"archive": str(archive), "size_bytes": archive.stat().st_size, "sha256": sha256_of(archive),
            "created_at": manifest["created_at"], "contents": included, "database": manifest["database"]}


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        path = Path(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise RestoreError(f"unsafe path in archive: {member.name}")
        if not (member.isfile() or member.isdir()):
            raise RestoreError(f"unexpected entry in archive: {member.name}")
        top = path.parts[0]
        if top not in (MANIFEST, DATABASE_MEMBER, *INSTANCE_FILES, *INSTANCE_DIRS):
            raise RestoreError(f"unexpected entry in archive: {member.name}")
        members.append(member)
    return members


def restore_backup(archive: Path, instance_path: Path, force: bool = False) -> dict[str, Any]:
    """Unpack a backup into an instance folder (stop the agent first); refuses to overwrite without force."""
    try:
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115 (closed by the with block below)
    except (tarfile.TarError, OSError) as exc:
        raise RestoreError(f"not a readable backup archive: {exc}") from exc
    with tar:
        try:
            manifest_file = tar.extractfile(MANIFEST)
        except KeyError as exc:
            raise RestoreError("no manifest.json: not an agent backup") from exc
        manifest = json.loads(manifest_file.read())
        members = _safe_members(tar)
        instance_path.mkdir(parents=True, exist_ok=True)
        database = instance_path / DATABASE_MEMBER
        if database.exists() and not force:
            raise RestoreError(f"{instance_path} already holds an agent database; pass --force to replace it")
        for item in (*INSTANCE_DIRS,):
            # Whole folders are replaced, so nothing newer than the backup lingers beside its files.
            if any(Path(m.name).parts[0] == item for m in members) and (instance_path / item).is_dir():
                shutil.rmtree(instance_path / item)
        # A stale write-ahead log would be replayed onto the restored database.
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        restorable = [m for m in members if m.name != MANIFEST]
        tar.extractall(instance_path, members=restorable, filter="data")
    for item in INSTANCE_FILES:
        if (instance_path / item).exists() and item != "config.json":
            os.chmod(instance_path / item, 0o600)
    return {"archive": str(archive), "instance_path": str(instance_path), "manifest": manifest,
            "restored": sorted({Path(m.name).parts[0] for m in restorable})}


def backup_data(app: Flask, _params: dict[str, Any]) -> dict[str, Any]:
    """A consistent snapshot of the agent's data as one archive under instance/backups/."""
    try:
        return create_backup(app)
    except OSError as exc:
        raise CommandFailed("The backup could not be written", {"reason": str(exc)}) from exc


COMMANDS = (
    Command("backup_data", backup_data,
            description="Archive the database, keystore, chain state, models and config under instance/backups/"),
)
