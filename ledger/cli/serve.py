"""`pointsledger serve`: the API on Flask's development server (production: gunicorn wsgi:app)."""

from __future__ import annotations

import logging

import click

from ledger.cli.common import expected_errors

HOST_DEFAULT = "127.0.0.1"
PORT_DEFAULT = 8000


@click.command("serve")
@click.option("--host", default=HOST_DEFAULT, show_default=True, help="Address to listen on.")
@click.option("--port", default=PORT_DEFAULT, show_default=True,
              type=click.IntRange(1, 65535), help="TCP port.")
@expected_errors
def serve(host: str, port: int) -> None:
    """Run the API (development server; production uses gunicorn wsgi:app)."""
    # Imported here so that the other commands do not load Flask.
    from ledger.api import create_app
    from ledger.api.redaction import RedactIdNumbers

    app = create_app()
    # The access log prints request paths; a client may put an ID number in one by mistake.
    logging.getLogger("werkzeug").addFilter(RedactIdNumbers())
    click.echo(f"serving the API at http://{host}:{port}/api/v1 (development server)")
    app.run(host=host, port=port, debug=False, load_dotenv=False)
