"""`UltimateAgentClient`: one method per endpoint of the agent's API, returning the parsed JSON."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .credentials import DEFAULT_URL, resolve_api_key
from .errors import error_from_envelope
from .events import EventStream, Handler, wait_for_task
from .http import RetryPolicy, Transport


def _seg(value: str) -> str:
    """A path segment, escaped (task ids and model names come from users)."""
    return quote(str(value), safe="")


class UltimateAgentClient:
    """A client of one agent: REST calls with retries and timeouts, plus live Socket.IO events."""

    def __init__(self, base_url: str = DEFAULT_URL, api_key: str | None = None, *,
                 timeout: float | tuple[float, float] = (5.0, 30.0), retries: int = 3,
                 backoff_factor: float = 0.5, max_retry_after: float = 60.0,
                 transports: Sequence[str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = resolve_api_key(api_key, self.base_url)
        policy = RetryPolicy(retries=retries, backoff_factor=backoff_factor, max_retry_after=max_retry_after)
        self.http = Transport(self.base_url, self.api_key, timeout=timeout, retry=policy)
        self._transports = transports
        self._events: EventStream | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        return self.http.request("GET", f"/api{path}", params=params)

    def _post(self, path: str, body: Any = None, idempotent: bool | None = None) -> Any:
        return self.http.request("POST", f"/api{path}", json=body if body is not None else {},
                                 idempotent=idempotent)

    @property
    def events(self) -> EventStream:
        """The Socket.IO connection (opened on first use), authenticated with this client's key."""
        if self._events is None:
            self._events = EventStream(self.base_url, self.api_key, transports=self._transports)
        return self._events

    def on(self, event: str, handler: Handler) -> Handler:
        """Call `handler(data)` on every live `event` (task_progress, task_completed, reward_claimed, ...)."""
        return self.events.on(event, handler)

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Stop calling a handler (or every handler) of `event`."""
        self.events.off(event, handler)

    def wait_for_task(self, task_id: str, on_progress: Handler | None = None, timeout: float | None = None,
                      poll_interval: float = 5.0) -> dict[str, Any]:
        """Block until the task ends (completed, failed or cancelled) and return its final record."""
        return wait_for_task(self, task_id, on_progress=on_progress, timeout=timeout, poll_interval=poll_interval)

    def close(self) -> None:
        """Close the socket and the HTTP connections."""
        if self._events is not None:
            self._events.close()
        self.http.close()

    def __enter__(self) -> UltimateAgentClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- status and monitoring --------------------------------------------------------------------

    def get_stats(self) -> dict[str, Any]:
        """Basic status (GET /api/stats)."""
        return self._get("/stats")

    def get_status(self) -> dict[str, Any]:
        """Enhanced status with AI and chain summaries (GET /api/v3/stats/enhanced), as in the seed."""
        return self._get("/v3/stats/enhanced")

    def get_system(self) -> dict[str, Any]:
        """Host and process information (GET /api/system)."""
        return self._get("/system")

    def get_capabilities(self) -> dict[str, Any]:
        """What the agent can run (GET /api/capabilities)."""
        return self._get("/capabilities")

    def get_activity(self) -> dict[str, Any]:
        """Task counts and activity level (GET /api/activity)."""
        return self._get("/activity")

    def get_network(self) -> dict[str, Any]:
        """Connection to the network node (GET /api/network)."""
        return self._get("/network")

    def get_health(self) -> dict[str, Any]:
        """Health score, components and alerts (GET /api/health)."""
        return self._get("/health")

    def get_performance_metrics(self) -> dict[str, Any]:
        """Live CPU, memory, GPU, disk and process figures (GET /api/performance/metrics)."""
        return self._get("/performance/metrics")

    def get_prometheus_metrics(self) -> str:
        """The Prometheus exposition text (GET /metrics)."""
        return self.http.request("GET", "/metrics", raw=True)

    # -- tasks ------------------------------------------------------------------------------------

    def get_tasks(self) -> dict[str, Any]:
        """Queued, running and paused tasks with the scheduler state (GET /api/tasks)."""
        return self._get("/tasks")

    def get_task(self, task_id: str) -> dict[str, Any]:
        """One task's full record (GET /api/v4/tasks/<id>)."""
        return self._get(f"/v4/tasks/{_seg(task_id)}")

    def get_task_types(self) -> dict[str, Any]:
        """Runnable task types with their config keys (GET /api/v4/task_types)."""
        return self._get("/v4/task_types")

    def start_task(self, task_type: str, config: dict[str, Any] | None = None,
                   priority: int | None = None) -> dict[str, Any]:
        """Queue a task (POST /api/start_task); the reply holds its task_id."""
        body: dict[str, Any] = {"type": task_type}
        if config:
            body["config"] = config
        if priority is not None:
            body["priority"] = priority
        return self._post("/start_task", body)

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        """Cancel a task (POST /api/cancel_task/<id>)."""
        return self._post(f"/cancel_task/{_seg(task_id)}")

    def pause_task(self, task_id: str) -> dict[str, Any]:
        """Pause a task at its next step (POST /api/v4/tasks/<id>/pause)."""
        return self._post(f"/v4/tasks/{_seg(task_id)}/pause")

    def resume_task(self, task_id: str) -> dict[str, Any]:
        """Resume a paused task (POST /api/v4/tasks/<id>/resume)."""
        return self._post(f"/v4/tasks/{_seg(task_id)}/resume")

    def set_task_priority(self, task_id: str, priority: int) -> dict[str, Any]:
        """Change a task's priority, 1-10 (POST /api/v4/tasks/<id>/priority)."""
        return self._post(f"/v4/tasks/{_seg(task_id)}/priority", {"priority": priority})

    # -- AI ---------------------------------------------------------------------------------------

    def get_ai_capabilities(self) -> dict[str, Any]:
        """Loaded models and training capabilities (GET /api/v3/ai/capabilities)."""
        return self._get("/v3/ai/capabilities")

    def get_training_status(self) -> dict[str, Any]:
        """Training activity (GET /api/training)."""
        return self._get("/training")

    def run_inference(self, model: str, input_data: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a model on one input (POST /api/ai/inference)."""
        body: dict[str, Any] = {"model": model, "input": input_data}
        if options:
            body["options"] = options
        # Inference changes nothing: safe to repeat after a 5xx.
        return self._post("/ai/inference", body, idempotent=True)

    def list_models(self) -> dict[str, Any]:
        """Every servable model (GET /api/v4/ai/models)."""
        return self._get("/v4/ai/models")

    def get_model(self, name: str) -> dict[str, Any]:
        """One model (GET /api/v4/ai/models/<name>)."""
        return self._get(f"/v4/ai/models/{_seg(name)}")

    def delete_model(self, name: str) -> dict[str, Any]:
        """Delete a model trained by a task (DELETE /api/v4/ai/models/<name>)."""
        return self.http.request("DELETE", f"/api/v4/ai/models/{_seg(name)}")

    # -- blockchain -------------------------------------------------------------------------------

    def get_blockchain_status(self) -> dict[str, Any]:
        """Wallet, balances and network status (GET /api/v3/blockchain/enhanced)."""
        return self._get("/v3/blockchain/enhanced")

    def get_balance(self) -> dict[str, Any]:
        """Balances per currency and their USD value (GET /api/blockchain/balance)."""
        return self._get("/blockchain/balance")

    def get_transactions(self, limit: int | None = None, page: int | None = None,
                         currency: str | None = None) -> dict[str, Any]:
        """The wallet's transactions, newest first (GET /api/blockchain/transactions)."""
        return self._get("/blockchain/transactions", limit=limit, page=page, currency=currency)

    def get_contracts(self) -> dict[str, Any]:
        """Contract types, addresses and public methods (GET /api/v4/blockchain/contracts)."""
        return self._get("/v4/blockchain/contracts")

    def execute_contract(self, contract_type: str, method: str,
                         params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a contract method with the agent's wallet (POST /api/blockchain/smart-contract/execute)."""
        return self._post("/blockchain/smart-contract/execute",
                          {"contract_type": contract_type, "method": method, "params": params or {}})

    # -- database ---------------------------------------------------------------------------------

    def get_database_stats(self) -> dict[str, Any]:
        """Row counts and size (GET /api/database/stats)."""
        return self._get("/database/stats")

    def get_task_records(self, limit: int | None = None, offset: int | None = None,
                         task_type: str | None = None, status: str | None = None) -> dict[str, Any]:
        """Stored task records (GET /api/database/tasks)."""
        return self._get("/database/tasks", limit=limit, offset=offset, task_type=task_type, status=status)

    def get_performance_history(self, hours: float | None = None) -> dict[str, Any]:
        """Stored performance samples (GET /api/database/performance)."""
        return self._get("/database/performance", hours=hours)

    # -- remote management ------------------------------------------------------------------------

    def remote_command(self, command_type: str, parameters: dict[str, Any] | None = None,
                       command_id: str | None = None) -> dict[str, Any]:
        """Run a remote command (POST /api/v4/remote/command); raises when the reply's success is false."""
        # A command_id makes the call idempotent on the agent (a repeat replays the first reply),
        # so the transport may retry it after a 5xx or a dropped connection.
        command_id = command_id or f"cmd-{uuid.uuid4().hex[:16]}"
        reply = self._post("/v4/remote/command", {"command_type": command_type, "parameters": parameters or {},
                                                  "command_id": command_id}, idempotent=True)
        if isinstance(reply, dict) and reply.get("success") is False:
            raise error_from_envelope(reply, 200)  # COMMAND_FAILED, TASK_NOT_FOUND, ... as the reply says
        return reply

    def get_remote_capabilities(self) -> dict[str, Any]:
        """Remote commands with their parameter schemas (GET /api/v4/remote/capabilities)."""
        return self._get("/v4/remote/capabilities")

    def get_remote_audit(self, limit: int | None = None, offset: int | None = None, command: str | None = None,
                         success: bool | None = None) -> dict[str, Any]:
        """The audit trail of remote commands, newest first (GET /api/v4/remote/audit)."""
        flag = None if success is None else str(success).lower()
        return self._get("/v4/remote/audit", limit=limit, offset=offset, command=command, success=flag)

    # -- auth and keys ----------------------------------------------------------------------------

    def create_token(self, permissions: Sequence[str] | None = None, agent_id: str | None = None) -> dict[str, Any]:
        """Mint a JWT with at most this key's permissions (POST /api/auth/token)."""
        body: dict[str, Any] = {}
        if permissions is not None:
            body["permissions"] = list(permissions)
        if agent_id is not None:
            body["agent_id"] = agent_id
        return self._post("/auth/token", body)

    def list_keys(self) -> dict[str, Any]:
        """API keys, never their secrets (GET /api/auth/keys, admin)."""
        return self._get("/auth/keys")

    def create_key(self, name: str, permissions: Sequence[str] = ("read",)) -> dict[str, Any]:
        """Create an API key; the secret is in this reply only (POST /api/auth/keys, admin)."""
        return self._post("/auth/keys", {"name": name, "permissions": list(permissions)})

    def revoke_key(self, key_id: int) -> dict[str, Any]:
        """Revoke an API key (DELETE /api/auth/keys/<id>, admin)."""
        return self.http.request("DELETE", f"/api/auth/keys/{int(key_id)}")
