"""Small helpers the test files share: an app's admin credentials and seeded task records."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from ultimate_agent.extensions import db
from ultimate_agent.models import TaskRecord


def admin_key_of(app: Flask) -> str:
    """The admin key an app generated at first start."""
    return (Path(app.instance_path) / "admin_api_key").read_text().strip()


def admin_headers_of(app: Flask) -> dict[str, str]:
    """Headers of an admin caller of `app`."""
    return {"Authorization": f"Bearer {admin_key_of(app)}"}


def add_tasks(app: Flask, **per_status: int) -> None:
    """Insert task records: add_tasks(app, completed=3, failed=1)."""
    with app.app_context():
        for status, count in per_status.items():
            for n in range(count):
                db.session.add(TaskRecord(id=f"rec-{status}-{n}", task_id=f"task-{status}-{n}",
                                          task_type="data_processing", status=status))
        db.session.commit()
