"""NodeClient: one background thread that keeps this agent registered with the network node.

It registers (falling back from the v4 to the v3 to the legacy path), sends heartbeats at the interval
the node asks for, re-registers when the node has forgotten the agent, holds the Socket.IO connection
that carries task assignments, and sends the reports of finished node tasks. Failures back off
exponentially with jitter and never stop it; only changes of state are logged at INFO or above.
Requests and tasks never wait on it: they read `status()`, which is in-memory state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import requests
import socketio
from flask import Flask

from ..models.base import isoformat, utcnow
from .assignments import AssignmentHandler
from .backoff import Backoff
from .payloads import heartbeat_payload, registration_payload
from .quality import ConnectionQuality

log = logging.getLogger(__name__)

# Newest first: the first that answers {"success": true} fixes the API version of the heartbeats.
REGISTER_PATHS = (
    ("v4", "/api/v4/agents/register"),
    ("v3", "/api/v3/agents/register"),
    ("legacy", "/api/agents/register"),
)
HEARTBEAT_PATHS = {"v4": "/api/v4/agents/heartbeat", "v3": "/api/v3/agents/heartbeat",
                   "legacy": "/api/agents/heartbeat"}
MAX_HEARTBEAT_INTERVAL = 3600.0
# Reports waiting for a connection; past this the oldest are dropped rather than holding memory forever.
MAX_OUTBOX = 1000
SHUTDOWN_HEARTBEAT_TIMEOUT = 5.0


def _reply_json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reply_text(reply: dict[str, Any]) -> str:
    return str(reply.get("message") or reply.get("error") or "").strip()


class NodeClient:
    """Registration, heartbeats and assignments with the node at NODE_URL, on one daemon thread."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.app = app
        self.node_url: str = config["NODE_URL"]
        self.agent_id: str = config["AGENT_ID"]
        self.timeout = float(config["NODE_REQUEST_TIMEOUT"])
        self.default_interval = float(config["NODE_HEARTBEAT_INTERVAL"])
        self.min_interval = float(config["NODE_HEARTBEAT_MIN_INTERVAL"])
        self.heartbeat_interval = self.default_interval
        self.quality = ConnectionQuality()
        self.assignments = AssignmentHandler(app, lambda: self.agent_id, self.send_event)
        self._http_backoff = Backoff(config["NODE_BACKOFF_INITIAL"], config["NODE_BACKOFF_MAX"])
        self._socket_backoff = Backoff(config["NODE_BACKOFF_INITIAL"], config["NODE_BACKOFF_MAX"])
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._registered = False
        self._network_status = "connecting"
        self._node_id: str | None = None
        self._node_version: str | None = None
        self._api_version: str | None = None
        self._last_heartbeat: str | None = None
        self._last_error: str | None = None
        self._socket_status = "disconnected"
        self._room_joined = False
        self._sio: socketio.Client | None = None
        self._outbox: deque[tuple[str, dict[str, Any]]] = deque(maxlen=MAX_OUTBOX)
        self._next_http = 0.0
        self._next_socket = 0.0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the client thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="network-client", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, tell the node with a `shutdown` heartbeat, and drop the socket."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._registered:
            self._send_shutdown_heartbeat()
        sio, self._sio = self._sio, None
        if sio is not None:
            self._flush_outbox(sio)
            try:
                sio.disconnect()
            except Exception:  # already gone: nothing left to close
                log.debug("Socket to the node was already closed", exc_info=True)
        with self._lock:
            self._registered = False
            self._network_status = "disconnected"
            self._socket_status = "disconnected"

    @property
    def running(self) -> bool:
        """Whether the client thread is alive."""
        return bool(self._thread and self._thread.is_alive())

    def status(self) -> dict[str, Any]:
        """`/api/network`: the registration and connection as last measured."""
        quality = self.quality.summary()
        with self._lock:
            return {
                "node_url": self.node_url,
                "registered": self._registered,
                "network_status": self._network_status,
                "agent_id": self.agent_id,
                "node_id": self._node_id,
                "node_version": self._node_version,
                "api_version": self._api_version,
                "connection_quality": quality["rating"],
                "round_trip_ms": quality["round_trip_ms"],
                "failure_rate": quality["failure_rate"],
                "last_heartbeat": self._last_heartbeat,
                "heartbeat_interval": self.heartbeat_interval,
                "assignments_connected": self._room_joined,
                "last_error": self._last_error,
            }

    def send_event(self, event: str, data: dict[str, Any]) -> None:
        """Queue a Socket.IO event for the node; the client thread sends it once connected."""
        self._outbox.append((event, data))
        self._wake.set()

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception:
                log.exception("Network client step failed; retrying with backoff")
                self._next_http = time.monotonic() + self._http_backoff.next_delay()
            self._wake.wait(self._sleep_time())
            self._wake.clear()

    def _step(self) -> None:
        if time.monotonic() >= self._next_http:
            if self._registered:
                self._heartbeat()
            else:
                self._register()
        if self._stopping.is_set():
            return
        if self._registered:
            self._ensure_socket()
        sio = self._sio
        if sio is not None and sio.connected:
            self._flush_outbox(sio)

    def _sleep_time(self) -> float:
        deadline = self._next_http
        if self._registered and not (self._sio is not None and self._sio.connected):
            deadline = min(deadline, self._next_socket)
        return max(0.0, deadline - time.monotonic())

    # -- HTTP: registration and heartbeats ----------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response | str:
        """POST to the node and measure it; the response, or why there was none."""
        started = time.monotonic()
        try:
            response = self._session.post(self.node_url + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            self.quality.record_failure()
            return f"{type(exc).__name__}: {exc}"
        if response.status_code >= 500:
            self.quality.record_failure()
        else:
            self.quality.record_success(time.monotonic() - started)
        return response

    def _register(self) -> None:
        with self.app.app_context():
            body = registration_payload(self.agent_id)
        refusals = []
        for version, path in REGISTER_PATHS:
            response = self._post(path, body)
            if isinstance(response, str):
                self._http_failed(f"node unreachable: {response}")  # other paths would fail alike
                return
            reply = _reply_json(response)
            if response.status_code >= 500:
                # The node is there but failing: the older paths would only add to its load.
                self._http_failed(f"registration failed: HTTP {response.status_code} {_reply_text(reply)}".strip())
                return
            if response.ok and reply.get("success") is True:
                self._registered_with(version, reply)
                return
            refusals.append(f"{path}: HTTP {response.status_code} {_reply_text(reply)}".strip())
        self._http_failed("registration refused: " + "; ".join(refusals))

    def _registered_with(self, version: str, reply: dict[str, Any]) -> None:
        failures = self._http_backoff.failures
        self._http_backoff.reset()
        self.heartbeat_interval = self._interval(reply)
        self._next_http = time.monotonic() + self.heartbeat_interval
        new_id = str(reply.get("agent_id") or self.agent_id)
        with self._lock:
            renamed = new_id != self.agent_id
            self.agent_id = new_id
            self._registered = True
            self._network_status = "connected"
            self._node_id = None if reply.get("node_id") is None else str(reply["node_id"])
            self._node_version = None if reply.get("node_version") is None else str(reply["node_version"])
            self._api_version = version
            self._last_error = None
        log.info("Registered with node %s as %s (node id %s, %s API%s)", self.node_url, self.agent_id,
                 self._node_id, version, f", after {failures} failed attempts" if failures else "")
        sio = self._sio
        if renamed and sio is not None and sio.connected:
            sio.emit("join_agent_room", {"agent_id": self.agent_id})  # the room is named after the id

    def _heartbeat(self) -> None:
        with self.app.app_context():
            body = heartbeat_payload(self.agent_id)
        response = self._post(HEARTBEAT_PATHS[self._api_version or "v4"], body)
        if isinstance(response, str):
            self._http_failed(f"heartbeat failed: {response}")
            return
        reply = _reply_json(response)
        if self._not_registered(response, reply):
            with self._lock:
                self._registered = False
                self._network_status = "connecting"
            log.info("Node %s no longer knows this agent (HTTP %s); registering again", self.node_url,
                     response.status_code)
            self._next_http = time.monotonic()
            return
        if not response.ok or reply.get("success") is False:
            self._http_failed(f"heartbeat refused: HTTP {response.status_code} {_reply_text(reply)}".strip())
            return
        failures = self._http_backoff.failures
        self._http_backoff.reset()
        self.heartbeat_interval = self._interval(reply)
        self._next_http = time.monotonic() + self.heartbeat_interval
        with self._lock:
            recovered = self._network_status != "connected"
            self._network_status = "connected"
            self._last_heartbeat = isoformat(utcnow())
            self._last_error = None
        if recovered:
            log.info("Node %s answers again after %d failed attempts", self.node_url, failures)

    @staticmethod
    def _not_registered(response: requests.Response, reply: dict[str, Any]) -> bool:
        """The node's "not registered" answer: a 404, or a 400 (or refusal) that says so."""
        if response.status_code == 404:
            return True
        refused = response.status_code == 400 or (response.ok and reply.get("success") is False)
        return refused and "regist" in _reply_text(reply).lower()

    def _interval(self, reply: dict[str, Any]) -> float:
        """Seconds to the next heartbeat: the reply's `next_heartbeat`, kept within sane bounds."""
        value = reply.get("next_heartbeat")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return min(MAX_HEARTBEAT_INTERVAL, max(self.min_interval, float(value)))
        return self.default_interval

    def _http_failed(self, reason: str) -> None:
        delay = self._http_backoff.next_delay()
        self._next_http = time.monotonic() + delay
        with self._lock:
            changed = self._network_status != "disconnected"
            self._network_status = "disconnected"
            self._last_error = reason
        # One warning when the node is lost; the retries after it are only worth a debug line.
        if changed:
            log.warning("Network node %s: %s; retrying with backoff (at most every %.0fs)", self.node_url,
                        reason, self._http_backoff.maximum)
        else:
            log.debug("Network node %s still failing (attempt %d): %s; next try in %.1fs", self.node_url,
                      self._http_backoff.failures, reason, delay)

    def _send_shutdown_heartbeat(self) -> None:
        try:
            with self.app.app_context():
                body = heartbeat_payload(self.agent_id, state="shutdown")
            # Not the session: the thread may still be inside a request after a timed-out join.
            requests.post(self.node_url + HEARTBEAT_PATHS[self._api_version or "v4"], json=body,
                          timeout=min(self.timeout, SHUTDOWN_HEARTBEAT_TIMEOUT))
        except Exception as exc:
            log.info("Could not tell node %s about the shutdown: %s", self.node_url, exc)

    # -- Socket.IO: assignments -------------------------------------------------------------------

    def _ensure_socket(self) -> None:
        if (self._sio is not None and self._sio.connected) or time.monotonic() < self._next_socket:
            return
        sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        sio.on("connect", lambda: self._on_connect(sio))
        sio.on("disconnect", lambda *reason: self._on_disconnect(sio))
        sio.on("joined_agent_room", self._on_joined)
        sio.on("central_task_assignment", lambda data: self._on_assignment(sio, data))
        self._sio = sio
        with self._lock:
            self._socket_status = "connecting"
        try:
            sio.connect(self.node_url, auth={"agent_id": self.agent_id}, wait_timeout=self.timeout)
        except Exception as exc:  # refused, timed out, not a Socket.IO server: all retried alike
            delay = self._socket_backoff.next_delay()
            self._next_socket = time.monotonic() + delay
            with self._lock:
                changed = self._socket_status != "failed"
                self._socket_status = "failed"
            if changed:
                log.warning("Socket.IO connection to node %s failed (%s); retrying with backoff",
                            self.node_url, exc)
            else:
                log.debug("Socket.IO connection to node %s failed again: %s", self.node_url, exc)

    def _on_connect(self, sio: socketio.Client) -> None:
        with self._lock:
            self._socket_status = "connected"
        # Every (re)connect is a new socket on the node: it must join the agent's room again.
        sio.emit("join_agent_room", {"agent_id": self.agent_id})

    def _on_joined(self, data: Any = None) -> None:
        # Reset only once the node took us in: a node that accepts sockets and drops them stays backed off.
        self._socket_backoff.reset()
        with self._lock:
            first = not self._room_joined
            self._room_joined = True
        if first:
            log.info("Receiving task assignments from node %s", self.node_url)

    def _on_disconnect(self, sio: socketio.Client) -> None:
        with self._lock:
            was_joined = self._room_joined
            self._room_joined = False
            self._socket_status = "disconnected"
        if self._stopping.is_set() or sio is not self._sio:
            return
        log.log(logging.INFO if was_joined else logging.DEBUG, "Socket.IO connection to node %s lost; reconnecting",
                self.node_url)
        self._next_socket = time.monotonic() + self._socket_backoff.next_delay()
        self._wake.set()

    def _on_assignment(self, sio: socketio.Client, data: Any) -> dict[str, Any]:
        response = self.assignments.handle(data)
        try:
            sio.emit("task_assignment_response", response)
        except socketio.exceptions.SocketIOError:
            self.send_event("task_assignment_response", response)
        return response  # also the acknowledgement, when the node asked for one

    def _flush_outbox(self, sio: socketio.Client) -> None:
        while self._outbox:
            event, data = self._outbox.popleft()
            try:
                sio.emit(event, data)
            except socketio.exceptions.SocketIOError:
                self._outbox.appendleft((event, data))  # kept for the next connection
                return
