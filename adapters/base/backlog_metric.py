"""The adapter's backlog as a gauge read when scraped (SPEC §15): `adapter run` exports it.

Read at scrape time rather than by the pump, whose rounds stop while the broker is down, which
is when the backlog grows and matters.
"""

from __future__ import annotations

import logging
import math

from sqlalchemy.exc import SQLAlchemyError

from adapters.base.outbox.events import EventOutbox
from ledger.runtime.metrics import ADAPTER_BACKLOG

log = logging.getLogger(__name__)


def export_backlog(platform: str, events: EventOutbox) -> None:
    def backlog() -> float:
        try:
            return float(events.backlog())
        except SQLAlchemyError as error:
            # A scrape still answers the other metrics; NaN says "not known now".
            log.debug("cannot read the outbox's backlog (%s)", type(error).__name__)
            return math.nan

    ADAPTER_BACKLOG.labels(platform=platform).set_function(backlog)
