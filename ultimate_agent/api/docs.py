"""Interactive API docs: a self-contained page that reads /api/openapi.json with the user's key."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..security import public

blp = Blueprint("docs", __name__, template_folder="templates")


@blp.route("/api/docs")
@public
def api_docs() -> str:
    """The docs page (no data in it; the spec is fetched with the key the reader enters)."""
    return render_template("docs.html")
