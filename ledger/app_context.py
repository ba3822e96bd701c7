"""What a request handler reaches through the current app: the wired Ledger and the queue."""

from __future__ import annotations

from flask import Flask, current_app

from ledger.bootstrap import Ledger
from ledger.domain.ports import EventQueue

LEDGER_EXTENSION = "pointsledger"
EVENT_QUEUE_EXTENSION = "pointsledger.event_queue"


def install(app: Flask, ledger: Ledger, event_queue: EventQueue | None) -> None:
    app.extensions[LEDGER_EXTENSION] = ledger
    app.extensions[EVENT_QUEUE_EXTENSION] = event_queue


def current_ledger() -> Ledger:
    ledger = current_app.extensions[LEDGER_EXTENSION]
    assert isinstance(ledger, Ledger)
    return ledger


def current_event_queue() -> EventQueue | None:
    """The broker queue; None in the embedded mode."""
    queue: EventQueue | None = current_app.extensions[EVENT_QUEUE_EXTENSION]
    return queue
