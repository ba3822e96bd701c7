"""The web application: the HTTP API (`ledger.api`) and the console (`ledger.console`) served by one
Flask app, on one wired Ledger. An app factory: nothing is built at import time."""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from ledger.api import init_api
from ledger.api.request_metrics import init_request_metrics
from ledger.app_context import install
from ledger.bootstrap import Ledger, build
from ledger.console import init_console
from ledger.domain.ports import EventQueue
from ledger.runtime.wsgi_request_ids import init_request_ids

# Bodies of JSON requests (other than events, which bound their own read) stay small.
REQUEST_BODY_MAX_BYTES = 64 * 1024


class _Utf8JsonProvider(DefaultJSONProvider):
    """Chinese platform and township names go out as UTF-8, not as \\u escapes."""

    ensure_ascii = False


def create_app(ledger: Ledger | None = None, event_queue: EventQueue | None = None) -> Flask:
    """The API and the console on `ledger` (default: built from the environment).

    Broker mode (POINTSLEDGER_AMQP_URL set) publishes verified events to `event_queue`, by
    default a RabbitMQ publisher that connects on first use.
    """
    if ledger is None:
        ledger = build()
    if ledger.settings.amqp_url is not None and event_queue is None:
        event_queue = _broker_queue(ledger.settings.amqp_url)
    app = Flask(__name__, static_folder=None)
    app.json = _Utf8JsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = REQUEST_BODY_MAX_BYTES
    install(app, ledger, event_queue)
    init_request_metrics(app)  # first: its clock starts before any other hook runs
    init_request_ids(app)
    init_api(app)
    init_console(app, ledger)
    return app


def _broker_queue(amqp_url: str) -> EventQueue:
    # Imported only in broker mode: the embedded mode never loads pika.
    from ledger.infra.amqp.publisher import EventPublisher

    return EventPublisher(amqp_url)
