"""Per-area rate limits on top of the general one."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import current_app
from limits import parse_many

from ..errors import RateLimited
from ..extensions import limiter

REMOTE_SCOPE = "remote"
# One shared bucket for every task-changing call (start, cancel, pause, resume, priority).
task_changes = limiter.shared_limit(lambda: current_app.config["RATE_LIMIT_TASKS"], scope="tasks",
                                    override_defaults=False)
# One shared bucket for remote commands over HTTP; Socket.IO spends the same bucket (spend_remote_budget).
remote_commands = limiter.shared_limit(lambda: current_app.config["RATE_LIMIT_REMOTE"], scope=REMOTE_SCOPE,
                                       override_defaults=False)


def spend_remote_budget(identity: str) -> None:
    """Count a remote command from outside HTTP against the caller's remote bucket; 429 when it is spent."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    # The same storage keys Flask-Limiter uses for the shared HTTP limit: [prefix,] identity, scope.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    identifiers = [prefix, identity, REMOTE_SCOPE] if prefix else [identity, REMOTE_SCOPE]
    for item in parse_many(current_app.config["RATE_LIMIT_REMOTE"]):
        if not limiter.limiter.hit(item, *identifiers):
            reset_at, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
            raise RateLimited(details={
                "limit": item.amount,
                "window_seconds": item.get_expiry(),
                "reset_time": datetime.fromtimestamp(reset_at, UTC).isoformat().replace("+00:00", "Z"),
                "retry_after": max(0, int(reset_at - time.time())),
            })
