"""Lifecycle commands: graceful restart and shutdown (standalone or under gunicorn) and self-update."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from flask import Flask
from marshmallow import Schema, fields, validate

from ..extensions import db
from ..models.base import isoformat, utcnow
from .registry import Command, CommandFailed

log = logging.getLogger(__name__)
# Even "now" waits this long, so the reply to the command leaves before the process goes.
MIN_DELAY_SECONDS = 0.5
PACKAGE_DIR = Path(__file__).resolve().parent.parent


class DelayParams(Schema):
    """restart_agent / shutdown_agent parameters."""

    delay = fields.Float(load_default=5.0, validate=validate.Range(min=0, max=3600),
                         metadata={"description": "Seconds to wait before acting"})


class UpdateParams(Schema):
    """update_agent parameters."""

    restart = fields.Boolean(load_default=True,
                             metadata={"description": "Restart after a successful update that changed the code"})


def gunicorn_master_pid() -> int | None:
    """The pid of the gunicorn master when this process is one of its workers."""
    if "gunicorn" not in sys.modules:
        return None
    try:
        parent = psutil.Process(os.getppid())
        command = " ".join(parent.cmdline())
    except psutil.Error:
        return None
    return parent.pid if "gunicorn" in command else None


class Lifecycle:
    """Schedules at most one restart or shutdown and carries it out gracefully."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.pending: dict[str, Any] | None = None

    def schedule(self, action: str, delay: float) -> dict[str, Any]:
        """Arrange `action` ("restart" or "shutdown") after `delay` seconds."""
        with self._lock:
            if self.pending is not None:
                raise CommandFailed(f"A {self.pending['action']} is already scheduled", dict(self.pending))
            at = utcnow() + timedelta(seconds=delay)
            mode = "gunicorn" if gunicorn_master_pid() else "standalone"
            self.pending = {"action": action, "scheduled_at": isoformat(at), "mode": mode}
            self._timer = threading.Timer(max(delay, MIN_DELAY_SECONDS), self._carry_out, (action,))
            self._timer.daemon = True
            self._timer.name = f"agent-{action}"
            self._timer.start()
        log.warning("Agent %s scheduled in %.1f s (%s)", action, delay, mode)
        return {"action": f"{action}_scheduled", "delay": delay, "scheduled_at": isoformat(at), "mode": mode,
                "pid": os.getpid()}

    def _carry_out(self, action: str) -> None:
        try:
            self.quiesce()
        except Exception:
            log.exception("Graceful stop before %s failed; going ahead", action)
        master = gunicorn_master_pid()
        if action == "restart":
            if master is not None:
                # HUP: the master starts a fresh worker (which recovers the tasks) and stops this one.
                os.kill(master, signal.SIGHUP)
                return
            logging.shutdown()
            # Same interpreter, same arguments, same pid: the new process recovers the interrupted tasks.
            os.execv(sys.executable, sys.orig_argv)  # noqa: S606 (replace this process with a fresh one)
        if master is not None:
            os.kill(master, signal.SIGTERM)  # stop the whole server, or the master would respawn us
            return
        logging.shutdown()
        # Everything that needed a clean stop has had it above; a timer thread cannot unwind the main one.
        os._exit(0)

    def quiesce(self) -> None:
        """Stop taking work, checkpoint running tasks, stop background threads and flush state to disk."""
        app = self.app
        log.warning("Stopping work: running tasks checkpoint and resume at the next start")
        manager = app.extensions.get("task_manager")
        if manager is not None:
            manager.shutdown(wait=True, timeout=float(app.config["SHUTDOWN_TIMEOUT"]))
        for name in ("memory_guard", "system_monitor", "model_registry"):
            service = app.extensions.get(name)
            if service is not None:
                service.stop()
        chain = app.extensions.get("chain")
        if chain is not None:
            chain.stop()  # claims pause (they resume at the next start); node state saved, node stopped
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        for handler in logging.getLogger("ultimate_agent").handlers:
            handler.flush()


def lifecycle(app: Flask) -> Lifecycle:
    """The app's lifecycle controller."""
    return app.extensions["remote_lifecycle"]


def restart_agent(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Gracefully restart after the delay; queued and running tasks resume in the new process."""
    return lifecycle(app).schedule("restart", params["delay"])


def shutdown_agent(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """Stop taking work, checkpoint running tasks, flush and exit after the delay."""
    return lifecycle(app).schedule("shutdown", params["delay"])


def install_dir(app: Flask) -> Path:
    """The checkout the agent runs from (configurable for installs elsewhere)."""
    configured = app.config.get("AGENT_INSTALL_DIR")
    return Path(configured).resolve() if configured else PACKAGE_DIR.parent


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(f"{args[0]} took longer than {timeout:.0f} s", {"command": " ".join(args)}) from exc


def _head(folder: Path) -> str:
    return _run(["git", "rev-parse", "HEAD"], folder, 30).stdout.strip()


def update_agent(app: Flask, params: dict[str, Any]) -> dict[str, Any]:
    """`git pull --ff-only` in the install directory, reinstall requirements, restart when the code changed."""
    if not app.config["ALLOW_SELF_UPDATE"]:
        raise CommandFailed("Self-update is disabled on this agent", {"setting": "ALLOW_SELF_UPDATE"})
    folder = install_dir(app)
    if not (folder / ".git").exists():
        raise CommandFailed("The install directory is not a git checkout", {"install_dir": str(folder)})
    timeout = float(app.config["UPDATE_TIMEOUT_SECONDS"])
    before = _head(folder)
    pull = _run(["git", "pull", "--ff-only"], folder, timeout)
    git_output = (pull.stdout + pull.stderr).strip()
    if pull.returncode != 0:
        raise CommandFailed("git pull --ff-only failed", {"install_dir": str(folder), "output": git_output})
    after = _head(folder)
    requirements = folder / "requirements.txt"
    pip_output, pip_ok = "no requirements.txt", True
    if requirements.exists():
        pip = _run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)],
                   folder, timeout)
        pip_output, pip_ok = (pip.stdout + pip.stderr).strip(), pip.returncode == 0
    if not pip_ok:
        raise CommandFailed("Installing the requirements failed",
                            {"before": before, "after": after, "git_output": git_output, "pip_output": pip_output})
    changed = before != after
    restart = None
    if changed and params["restart"]:
        restart = lifecycle(app).schedule("restart", 1.0)
    return {"install_dir": str(folder), "before": before, "after": after, "updated": changed,
            "git_output": git_output, "pip_output": pip_output[-4000:], "restart": restart}


COMMANDS = (
    Command("restart_agent", restart_agent, DelayParams,
            description="Graceful restart after the delay; queued and running tasks resume"),
    Command("shutdown_agent", shutdown_agent, DelayParams,
            description="Stop taking work, checkpoint running tasks, flush and exit"),
    Command("update_agent", update_agent, UpdateParams,
            description="git pull --ff-only, reinstall requirements and restart (needs ALLOW_SELF_UPDATE)"),
)
