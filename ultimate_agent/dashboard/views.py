"""Serves the dashboard page and its static files, with a self-only Content-Security-Policy."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, render_template

from ..security import public

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Copied from node_modules by `make install` (see the Makefile's `assets` target), never fetched at run time.
VENDOR_FILES = ("socket.io.esm.min.js", "uPlot.esm.js", "uPlot.min.css")
# Everything from this origin only: no inline script or style, no third-party host, no framing.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

blp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
                static_url_path="/dashboard/static")


def missing_vendor_files(static_dir: Path = STATIC_DIR) -> list[str]:
    """Browser bundles that `make install` should have copied into static/vendor but did not."""
    return [name for name in VENDOR_FILES if not (static_dir / "vendor" / name).is_file()]


@blp.route("/")
@public
def index() -> str:
    """The dashboard shell: no data and no secret in it; the scripts fetch everything with the user's JWT."""
    missing = missing_vendor_files()
    if missing:
        log.warning("Dashboard assets missing (%s): run `make install`", ", ".join(missing))
    return render_template("dashboard/index.html", missing_assets=missing)


@blp.after_request
def add_security_headers(response: Response) -> Response:
    """Lock the page and its assets to this origin."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
