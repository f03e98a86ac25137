"""Prometheus scrape endpoint."""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST

from ..security import requires

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
@blp.response(200, content_type=CONTENT_TYPE_LATEST)
@requires("read")
def get_metrics() -> Response:
    """System, task, request and Socket.IO metrics in Prometheus text format (needs `read`)."""
    body = current_app.extensions["agent_metrics"].render()
    # content_type, not mimetype: CONTENT_TYPE_LATEST already carries its charset.
    return Response(body, content_type=CONTENT_TYPE_LATEST)
