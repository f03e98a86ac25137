"""The embedded EVM node: anvil as a child process on loopback, its state kept in the instance folder.

Persistence, in two layers:
- The node outlives the agent. `node.json` records its pid and port; a restarted agent (graceful or
  after kill -9) re-attaches to the node that is still running, so nothing on the chain is lost.
- The agent dumps the node's whole state (`anvil_dumpState`, blocks and receipts included) to
  `state.hex` with an atomic rename before it calls a transaction confirmed, and at shutdown. A node
  that died with the machine is restarted and reloaded from that file (`anvil_loadState`), so every
  transaction the database calls confirmed is on the reloaded chain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

from .errors import ChainUnavailable

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_CHAIN_ID = 31337
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def find_anvil(configured: str | None = None) -> str:
    """The anvil binary: the configured path (only it, when set), else the one npm installed beside the package."""
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ChainUnavailable(f"ANVIL_PATH {configured} is not an executable file")
    candidates: list[str] = []
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    system = platform.system().lower()
    modules = REPO_ROOT / "node_modules" / "@foundry-rs"
    candidates += [str(modules / f"anvil-{system}-{arch}" / "bin" / "anvil"),
                   str(REPO_ROOT / "node_modules" / ".bin" / "anvil")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChainUnavailable("The anvil binary was not found; run `make install` (npm @foundry-rs/anvil) "
                           "or set ANVIL_PATH")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # A zombie (our own dead child not yet reaped) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class EmbeddedNode:
    """Start, re-attach to, persist and stop the agent's own anvil node."""

    def __init__(self, state_dir: Path, anvil_path: str | None = None, chain_id: int = EMBEDDED_CHAIN_ID,
                 block_time: float | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.anvil_path = anvil_path
        self.chain_id = chain_id
        self.block_time = block_time
        self.port: int | None = None
        self.pid: int | None = None
        self._process: subprocess.Popen | None = None
        self._persist_lock = threading.Lock()
        self._session = requests.Session()

    @property
    def rpc_url(self) -> str:
        """The node's JSON-RPC address on loopback."""
        if self.port is None:
            raise ChainUnavailable("The embedded chain node is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        """Where the node's dumped state lives."""
        return self.state_dir / "state.hex"

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "node.json"

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> str:
        """Re-attach to this instance's running node, or start one from the saved state; returns how."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self._attach():
            log.info("Re-attached to the embedded chain node (pid %s, port %s)", self.pid, self.port)
            return "attached"
        self._spawn(timeout)
        if self.state_file.exists():
            self._rpc("anvil_loadState", [self.state_file.read_text(encoding="ascii").strip()])
            log.info("Started the embedded chain node from its saved state (pid %s, port %s)", self.pid, self.port)
            return "restored"
        log.info("Started a new embedded chain node (pid %s, port %s)", self.pid, self.port)
        return "new"

    def stop(self) -> None:
        """Save the state and stop the node (a node this process re-attached to is stopped too)."""
        if self.pid is None:
            return
        try:
            self.persist_state()
        except ChainUnavailable:
            log.warning("The embedded chain state could not be saved at shutdown")
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        else:
            deadline = time.monotonic() + 10
            while _pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        self._pid_file.unlink(missing_ok=True)
        self.pid = self.port = self._process = None

    def persist_state(self) -> None:
        """Write the node's full state to `state.hex` atomically (temp file, fsync, rename)."""
        with self._persist_lock:
            state = self._rpc("anvil_dumpState", [])
            tmp = self.state_file.with_suffix(".tmp")
            with open(tmp, "w", encoding="ascii") as handle:
                handle.write(state)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.state_file)

    def alive(self) -> bool:
        """Whether the node answers JSON-RPC."""
        try:
            return int(self._rpc("eth_chainId", [], timeout=2), 16) == self.chain_id
        except ChainUnavailable:
            return False

    # -- internals ------------------------------------------------------------------------------------

    def _attach(self) -> bool:
        try:
            recorded = json.loads(self._pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        pid, port = recorded.get("pid"), recorded.get("port")
        if not isinstance(pid, int) or not isinstance(port, int) or not _pid_alive(pid):
            return False
        self.pid, self.port = pid, port
        if self.alive():
            return True
        self.pid = self.port = None
        return False

    def _spawn(self, timeout: float) -> None:
        binary = find_anvil(self.anvil_path)
        port = _free_port()
        command = [binary, "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(self.chain_id),
                   "--silent"]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        log_file = open(self.state_dir / "anvil.log", "ab")  # noqa: SIM115  (handed to the child)
        # Its own session: a Ctrl-C meant for the agent must not kill the node before its state is saved,
        # and the node must outlive an agent killed with -9 so the next start re-attaches to it.
        self._process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        self.pid, self.port = self._process.pid, port
        deadline = time.monotonic() + timeout
        while not self.alive():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                self.pid = self.port = self._process = None
                raise ChainUnavailable(f"The embedded chain node did not start; see {self.state_dir / 'anvil.log'}")
            time.sleep(0.02)
        tmp = self._pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": self.pid, "port": self.port, "binary": binary}), encoding="utf-8")
        os.replace(tmp, self._pid_file)

    def _rpc(self, method: str, params: list, timeout: float = 10.0):
        try:
            response = self._session.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                              "params": params}, timeout=timeout)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ChainUnavailable(f"The embedded chain node did not answer: {exc}") from exc
        if "error" in body:
            raise ChainUnavailable(f"{method} failed: {body['error'].get('message')}")
        return body["result"]
