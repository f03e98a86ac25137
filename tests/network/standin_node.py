"""A stand-in network node for the tests: Flask + Flask-SocketIO on loopback, real HTTP and real Socket.IO.

The real node is a public server the tests cannot reach; this one speaks the same protocol (register
with v4/v3/legacy fallback, heartbeats, the agent room and the assignment events) and records what
the agent sent it. Its Socket.IO offers long-polling only: werkzeug's server does not close a WebSocket
cleanly (every client disconnect then waits 3 s for the close frame); the agent's client speaks both.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from flask_socketio import SocketIO, join_room
from werkzeug.serving import make_server

VERSION_PATHS = {"v4": "/api/v4/agents", "v3": "/api/v3/agents", "legacy": "/api/agents"}


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandInNode:
    """The node's server side, with switches for the behaviours under test."""

    def __init__(self, port: int | None = None, versions: tuple[str, ...] = ("v4", "v3", "legacy"),
                 next_heartbeat: float | None = None, node_id: str = "node-standin-1") -> None:
        self.port = port or free_port()
        self.versions = set(versions)  # paths that accept registrations; the others refuse
        self.next_heartbeat = next_heartbeat
        self.node_id = node_id
        self.failing = False  # every HTTP answer is a 503
        self.agents: set[str] = set()
        self.http: list[tuple[float, str, dict[str, Any]]] = []
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.sids: dict[str, str] = {}  # agent id -> socket id of its room member
        self._changed = threading.Condition()
        self.app = Flask("standin_node")
        self.sio = SocketIO(self.app, async_mode="threading", logger=False, engineio_logger=False,
                            transports=["polling"])
        self._routes()
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The node's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _record(self, target: list, name: str, data: Any) -> None:
        with self._changed:
            target.append((time.monotonic(), name, data if isinstance(data, dict) else {"value": data}))
            self._changed.notify_all()

    def _routes(self) -> None:
        for version, prefix in VERSION_PATHS.items():
            self.app.add_url_rule(f"{prefix}/register", f"register_{version}", self._register(version),
                                  methods=["POST"])
            self.app.add_url_rule(f"{prefix}/heartbeat", f"heartbeat_{version}", self._heartbeat,
                                  methods=["POST"])

        @self.sio.on("join_agent_room")
        def join(data):
            agent_id = data["agent_id"]
            join_room(f"agent_{agent_id}")
            self.sids[agent_id] = request.sid
            self._record(self.events, "join_agent_room", data)
            self.sio.emit("joined_agent_room", {"agent_id": agent_id, "room": f"agent_{agent_id}"},
                          to=request.sid)

        for event in ("task_assignment_response", "central_task_completed"):
            self.sio.on_event(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[Any], None]:
        return lambda data: self._record(self.events, event, data)

    def _register(self, version: str) -> Callable[[], Any]:
        def register():
            body = request.get_json()
            self._record(self.http, request.path, body)
            if self.failing:
                return jsonify({"success": False, "error": "node overloaded"}), 503
            if version not in self.versions:
                if version == "v4":
                    return jsonify({"error": "Not Found"}), 404
                return jsonify({"success": False, "message": f"{version} registration disabled"})
            self.agents.add(body["agent_id"])
            reply = {"success": True, "agent_id": body["agent_id"], "node_id": self.node_id,
                     "node_version": "standin-1.0", "message": "registered"}
            if self.next_heartbeat is not None:
                reply["next_heartbeat"] = self.next_heartbeat
            return jsonify(reply)
        return register

    def _heartbeat(self) -> Any:
        body = request.get_json()
        self._record(self.http, request.path, body)
        if self.failing:
            return jsonify({"success": False, "error": "node overloaded"}), 503
        if body.get("agent_id") not in self.agents:
            return jsonify({"success": False, "error": "Agent not registered"}), 404
        reply = {"success": True, "message": "ok"}
        if self.next_heartbeat is not None:
            reply["next_heartbeat"] = self.next_heartbeat
        return jsonify(reply)

    # -- control ------------------------------------------------------------------------------------

    def start(self) -> StandInNode:
        """Serve on the loopback port in a thread."""
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def assign(self, agent_id: str, **assignment: Any) -> None:
        """Push a `central_task_assignment` to the agent's room, as the node's scheduler does."""
        self.sio.emit("central_task_assignment", assignment, to=f"agent_{agent_id}")

    def drop_socket(self, agent_id: str) -> None:
        """Close the agent's Socket.IO connection from the node's side."""
        self.sio.server.disconnect(self.sids[agent_id])

    # -- observations -------------------------------------------------------------------------------

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `check()` returns something truthy (re-checked whenever the agent sends anything)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = check()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s; http={self.paths()} events={self.event_names()}")
                self._changed.wait(min(left, 0.05))

    def paths(self) -> list[str]:
        """HTTP paths the agent called, in order."""
        return [path for _, path, _ in self.http]

    def requests_to(self, suffix: str) -> list[tuple[float, dict[str, Any]]]:
        """(time, body) of the HTTP requests whose path ends with `suffix`."""
        return [(at, body) for at, path, body in self.http if path.endswith(suffix)]

    def event_names(self) -> list[str]:
        """Socket.IO events the agent sent, in order."""
        return [name for _, name, _ in self.events]

    def received(self, event: str) -> list[dict[str, Any]]:
        """Payloads of one Socket.IO event the agent sent."""
        return [data for _, name, data in self.events if name == event]
