"""The agent's rotating log file: installing it, reading recent entries, deleting old rotated files."""

from __future__ import annotations

import logging
import re
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from flask import Flask
from marshmallow import Schema, fields, validate

from .registry import Command, CommandFailed

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ENTRY_PATTERN = re.compile(r"^(?P<timestamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+) "
                           r"(?P<logger>[^\s:]+): (?P<message>.*)$")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_file(app: Flask) -> Path | None:
    """The configured log file (relative paths are under the instance folder); None when disabled."""
    configured = app.config.get("LOG_FILE")
    if not configured:
        return None
    path = Path(configured)
    return path if path.is_absolute() else Path(app.instance_path) / path


def install_log_file(app: Flask, logger: logging.Logger) -> None:
    """Send the agent's log to its rotating file (replacing the file handler of an earlier app)."""
    for handler in list(logger.handlers):
        if getattr(handler, "agent_log_file", False):
            logger.removeHandler(handler)
            handler.close()
    path = log_file(app)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=int(app.config["LOG_MAX_BYTES"]),
                                  backupCount=int(app.config["LOG_BACKUP_COUNT"]), encoding="utf-8")
    handler.agent_log_file = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)


def _required_log_file(app: Flask) -> Path:
    path = log_file(app)
    if path is None:
        raise CommandFailed("The log file is disabled (LOG_FILE is empty)")
    return path


def rotated_files(path: Path) -> list[Path]:
    """agent.log.1, agent.log.2, ... that exist, newest first."""
    found = []
    for candidate in path.parent.glob(f"{path.name}.*"):
        suffix = candidate.name[len(path.name) + 1:]
        if suffix.isdigit():
            found.append((int(suffix), candidate))
    return [candidate for _, candidate in sorted(found)]


def parse_entries(text: str) -> list[dict[str, Any]]:
    """Log records from file text; continuation lines (tracebacks) belong to the record above them."""
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        match = ENTRY_PATTERN.match(line)
        if match:
            entries.append(match.groupdict())
        elif entries:
            entries[-1]["message"] += "\n" + line
    return entries


def recent_entries(path: Path, lines: int, level: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The last `lines` records at or above `level`, reading rotated files only as far back as needed."""
    minimum = LEVELS.index(level) if level else 0
    collected: list[dict[str, Any]] = []
    files = []
    for source in [path, *rotated_files(path)]:
        if not source.exists():
            continue
        files.append(source.name)
        entries = [e for e in parse_entries(source.read_text(encoding="utf-8", errors="replace"))
                   if e["level"] not in LEVELS or LEVELS.index(e["level"]) >= minimum]
        collected = entries + collected
        if len(collected) >= lines:
            break
    return collected[-lines:], files


class LogParams(Schema):
    """get_logs parameters."""

    lines = fields.Integer(load_default=100, validate=validate.Range(min=1, max=5000))
    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEVELS),
                          metadata={"description": "Lowest level to include"})


class CleanupParams(Schema):
    """cleanup_logs parameters."""

    older_than_days = fields.Float(load_default=7.0, validate=validate.Range(min=0, max=3650))


def get_logs(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """The last entries of the agent's log file, optionally from a level up."""
    path = _required_log_file(app)
    for handler in logging.getLogger("ultimate_agent").handlers:
        handler.flush()
    entries, files = recent_entries(path, params["lines"], params["level"])
    return {"file": str(path), "files_read": files, "count": len(entries), "level": params["level"],
            "entries": entries}


def cleanup_logs(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Delete rotated log files older than the given age (never the live file); reports what it freed."""
    path = _required_log_file(app)
    cutoff = time.time() - params["older_than_days"] * 86400
    deleted, kept, freed = [], [], 0
    for candidate in rotated_files(path):
        stat = candidate.stat()
        if stat.st_mtime <= cutoff:
            candidate.unlink()
            deleted.append(candidate.name)
            freed += stat.st_size
        else:
            kept.append(candidate.name)
    return {"deleted": deleted, "freed_bytes": freed, "kept": kept, "live_file": path.name}


COMMANDS = (
    Command("get_logs", get_logs, LogParams, description="Recent entries of the agent's rotating log file"),
    Command("cleanup_logs", cleanup_logs, CleanupParams,
            description="Delete rotated log files older than the given age"),
)
