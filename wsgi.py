"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from ledger.app import create_app

app = create_app()
