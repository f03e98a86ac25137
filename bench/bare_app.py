"""Baseline for bench/api.py: a bare Flask app with one trivial JSON route, served like the agent."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare() -> dict[str, bool]:
    """A trivial JSON answer: the cost of Flask and gunicorn alone."""
    return {"ok": True}
