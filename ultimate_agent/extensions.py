"""Unbound Flask extensions; the factory attaches each one with init_app."""

from __future__ import annotations

from flask import Flask, current_app
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


def rate_limit_key() -> str:
    """Key a request by its credential, or by client address when it has none."""
    # Imported here: security needs the models, which need `db` from this module.
    from .security.auth import rate_limit_identity

    return rate_limit_identity()


def general_rate_limit() -> str:
    """The general API limit of the app serving this request."""
    # A callable, not RATELIMIT_APPLICATION: the limiter is one shared object and keeps the limits
    # of the first app it was attached to, so a string would ignore every later app's config.
    return current_app.config["RATE_LIMIT_GENERAL"]


class AgentApi(Api):
    """flask-smorest Api whose documented error body is the seed's envelope."""

    def _register_error_handlers(self) -> None:
        # The app's own handlers (errors.register_error_handlers) render every error.
        pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
# The general limit is one budget per caller across the whole API (an application limit), not a
# budget per endpoint (Flask-Limiter's default limits), so it means what the seed says: N requests.
limiter = Limiter(key_func=rate_limit_key, application_limits=[general_rate_limit], headers_enabled=True)
jwt = JWTManager()
api = AgentApi()
cors = CORS()


def init_extensions(app: Flask) -> None:
    """Attach the unbound extensions to one app (called by the factory only)."""
    db.init_app(app)
    migrate.init_app(app, db)
    jwt.init_app(app)
    api.init_app(app)
    if app.config["CORS_ORIGINS"]:
        cors.init_app(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}})
    socketio.init_app(
        app,
        async_mode="threading",
        cors_allowed_origins=app.config["CORS_ORIGINS"] or None,
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
    )
