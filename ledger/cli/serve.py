"""`pointsledger serve`: the API on werkzeug's development server (production: gunicorn wsgi:app,
behind a buffering reverse proxy; see the README).

werkzeug's handler waits on a socket without a timeout, so a client that sends less body than
its Content-Length holds a thread forever; and after answering a request whose body it did not
read (a 413, a 401), werkzeug drains the rest in reads of 10 MB that block until that much
arrives, so one such client held its connection open forever. Ours gives every socket read a
timeout and drains at most DRAIN_BYTES_MAX, one socket read at a time, before it closes. Its
access lines carry the request id of the answer (SPEC §15), as gunicorn's do.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import click
from werkzeug.serving import BaseWSGIServer, make_server

from ledger.bootstrap import build
from ledger.cli.common import expected_errors
from ledger.contract.redaction import RedactingFilter
from ledger.runtime.wsgi_request_ids import RequestIdAccessLogHandler
from ledger.service.checkpoints import CheckpointPolicy
from ledger.worker.checkpointer import Checkpointer

if TYPE_CHECKING:
    from flask import Flask

HOST_DEFAULT = "127.0.0.1"
PORT_DEFAULT = 8000
# A client on a working network sends the next piece of its request well within this.
READ_TIMEOUT_S = 5
# What is still read from a connection once it is answered, so that a client still sending
# sees the answer rather than a reset; the connection is closed after it either way.
DRAIN_BYTES_MAX = 1024 * 1024


class _Drain(io.BufferedIOBase):
    """The request stream once the answer has begun: at most DRAIN_BYTES_MAX more, and each
    read returns what one socket read gives instead of waiting for `size` bytes."""

    def __init__(self, stream: io.BufferedReader) -> None:
        super().__init__()
        self._stream = stream
        self._left = DRAIN_BYTES_MAX

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        if wanted <= 0:
            return b""
        data = self._stream.read1(wanted)
        self._left -= len(data)
        return data

    def close(self) -> None:
        super().close()
        self._stream.close()


class BoundedRequestHandler(RequestIdAccessLogHandler):
    timeout = READ_TIMEOUT_S  # socketserver sets it on the connection: every read is bounded

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        if isinstance(self.rfile, io.BufferedReader):
            self.rfile = _Drain(self.rfile)


def development_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """A threaded werkzeug server for `app` with bounded reads; call serve_forever()."""
    return make_server(host, port, app, threaded=True, request_handler=BoundedRequestHandler)


def serve_development(app: Flask, host: str, port: int) -> None:
    """Serve `app` until interrupted (`serve`, `demo`), with nothing secret in the access log."""
    # The access log prints request lines; a client may put an ID number or a token in one.
    # (werkzeug logs through the root logger's handlers too, which the command line redacts;
    # this covers a server started without it, as the tests do.)
    logging.getLogger("werkzeug").addFilter(RedactingFilter())
    development_server(app, host, port).serve_forever()


@click.command("serve")
@click.option("--host", default=HOST_DEFAULT, show_default=True, help="Address to listen on.")
@click.option("--port", default=PORT_DEFAULT, show_default=True,
              type=click.IntRange(1, 65535), help="TCP port.")
@expected_errors
def serve(host: str, port: int) -> None:
    """Run the API (development server; production uses gunicorn wsgi:app)."""
    # Imported here so that the other commands do not load Flask.
    from ledger.app import create_app

    ledger = build()
    app = create_app(ledger=ledger)
    if ledger.settings.embedded:
        # Events are appended in this process: sign the logs' checkpoints beside it (with a
        # broker, `pointsledger checkpoints run` does, beside the consumer).
        Checkpointer(ledger, CheckpointPolicy.for_interval(
            ledger.settings.checkpoint_interval_s)).run_in_background()
    click.echo(f"serving the API at http://{host}:{port}/api/v1 (development server)")
    serve_development(app, host, port)
