"""Per-area rate limits on top of the general one."""

from __future__ import annotations

from flask import current_app

from ..extensions import limiter

# One shared bucket for every task-changing call (start, cancel, pause, resume, priority).
task_changes = limiter.shared_limit(lambda: current_app.config["RATE_LIMIT_TASKS"], scope="tasks",
                                    override_defaults=False)
# One shared bucket for remote commands, over HTTP (Socket.IO counts against it separately).
remote_commands = limiter.shared_limit(lambda: current_app.config["RATE_LIMIT_REMOTE"], scope="remote",
                                       override_defaults=False)
