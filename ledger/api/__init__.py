"""The HTTP API (SPEC §7): an app factory; nothing is built at import time."""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from ledger.api import (
    admin,
    audit,
    counter,
    credit_terms,
    events,
    health,
    ledger_routes,
    platforms,
    rejections,
    residents,
    rulesets,
)
from ledger.api.access import enforce_access
from ledger.api.context import install
from ledger.api.converters import refuse_out_of_range_path_integers
from ledger.api.headers import add_security_headers
from ledger.api.openapi import API_PREFIX, make_api
from ledger.api.problems import register_error_handlers
from ledger.bootstrap import Ledger, build
from ledger.domain.ports import EventQueue

# Bodies of JSON requests (other than events, which bound their own read) stay small.
REQUEST_BODY_MAX_BYTES = 64 * 1024


class _Utf8JsonProvider(DefaultJSONProvider):
    """Chinese platform and township names go out as UTF-8, not as \\u escapes."""

    ensure_ascii = False


def create_app(ledger: Ledger | None = None, event_queue: EventQueue | None = None) -> Flask:
    """The API on `ledger` (default: built from the environment).

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

    api = make_api(app)
    for blueprint in (events.blp, platforms.blp, residents.blp, credit_terms.blp,
                      ledger_routes.blp, rejections.blp, rulesets.blp, counter.blp,
                      audit.blp, admin.blp):
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    api.register_blueprint(health.blp)
    register_error_handlers(app)
    app.before_request(enforce_access)
    app.before_request(refuse_out_of_range_path_integers)
    app.after_request(add_security_headers)
    # Imported here: the console's pages use the API's context (the ledger of the app), and
    # importing the console first must not need the API package half-built.
    from ledger.console import init_console

    init_console(app, ledger)
    return app


def _broker_queue(amqp_url: str) -> EventQueue:
    # Imported only in broker mode: the embedded mode never loads pika.
    from ledger.infra.amqp.publisher import EventPublisher

    return EventPublisher(amqp_url)
