"""WSGI entry point for gunicorn: `gunicorn wsgi:app` (see `make run`)."""
from ultimate_agent import create_app

app = create_app()
