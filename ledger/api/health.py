"""Liveness and readiness for load balancers and orchestrators; no token needed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ledger.api.access import public
from ledger.api.blueprint import Blueprint
from ledger.api.problems import ProblemError
from ledger.api.schemas import HealthSchema, ReadySchema
from ledger.app_context import current_event_queue, current_ledger

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__, description="Health of the process and its dependencies")

CHECK_OK = "ok"
CHECK_FAILED = "failed"


@blp.route("/healthz")
@public
@blp.response(200, HealthSchema)
def healthz() -> dict[str, Any]:
    """The process answers; no dependency is checked"""
    return {"status": "ok"}


@blp.route("/readyz")
@public
@blp.response(200, ReadySchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> dict[str, Any]:
    """The database answers and, in broker mode, the event queue can take messages"""
    checks = {"database": _database()}
    queue = current_event_queue()
    if not current_ledger().settings.embedded and queue is not None:
        checks["queue"] = _queue_ready(queue.ready)
    failing = sorted(name for name, state in checks.items() if state != CHECK_OK)
    if failing:
        raise ProblemError(503, "not_ready", "not ready: " + ", ".join(failing) + " failed",
                           extensions={"checks": checks})
    return {"status": "ready", "checks": checks}


def _database() -> str:
    try:
        with current_ledger().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness: the database does not answer (%s)", type(error).__name__)
        return CHECK_FAILED
    return CHECK_OK


def _queue_ready(ready: Callable[[], bool]) -> str:
    try:
        return CHECK_OK if ready() else CHECK_FAILED
    except Exception:  # a readiness probe reports, it never fails the request
        log.warning("readiness: the event queue check raised", exc_info=True)
        return CHECK_FAILED
