"""pointsledger_http_request_duration_seconds for every answer of the API and the console
(SPEC §15), labelled by the route as declared (`/api/v1/residents/<resident:resident>`), never
the path as sent: a path holds pseudonyms, and a teller's slip can put an ID number in it.

The clock starts in the first before_request hook of the app (this one is registered before the
access checks, so a refused request is timed too) and stops in the last after_request hook.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from ledger.runtime.metrics import HTTP_REQUEST_SECONDS

UNMATCHED_ROUTE = "unmatched"  # no rule matched: a 404, or a 405 for a method the rule lacks
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Prometheus scrapes itself out of the figures: its rhythm is not the API's traffic.
UNTIMED_ENDPOINTS = frozenset({"metrics.metrics"})
_STARTED = "_pointsledger_request_started"


def init_request_metrics(app: Flask) -> None:
    """Call before any other hook is registered, so that the clock starts first."""
    app.before_request(_start)
    app.after_request(_observe)


def _start() -> None:
    setattr(g, _STARTED, time.perf_counter())


def _observe(response: Response) -> Response:
    started: float | None = getattr(g, _STARTED, None)
    if started is None or request.endpoint in UNTIMED_ENDPOINTS:
        return response
    rule = request.url_rule
    route = UNMATCHED_ROUTE if rule is None else rule.rule
    # A client may send any token as the method: only the standard ones become label values.
    method = request.method if request.method in METHODS else OTHER_METHOD
    HTTP_REQUEST_SECONDS.labels(route, method, str(response.status_code)).observe(
        time.perf_counter() - started)
    return response
