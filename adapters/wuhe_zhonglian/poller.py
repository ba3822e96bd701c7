"""A Source that polls 五和众联's `GET BASE/api/points?after=CURSOR` (SPEC §10).

The cursor lives in the outbox and is saved in the same transaction as the page's records: a
crash between the two can neither skip a page nor count one twice (a page read again after a
crash before the commit is simply read again; its records are recognized as retries anyway).
It is the last record id of a page, which a platform may have made of an ID number: it is kept
sealed (adapters.base.residents), as the resident directory is.
While the platform is down the poller backs off (ledger.runtime.retry, from its interval up to
BACKOFF_S_MAX), warns once per outage, and never gives up.
A platform that refuses the request (a 4xx answer other than 408 or 429: a wrong URL, a revoked
access) is not down: that is logged as an error, which an operator must fix, and the poller asks
again at its longest back-off, so that it goes on by itself once the platform accepts again.
The outbox busy is waited out too; an outbox failure that will not pass ends `run` with the
exception, which stops the adapter (adapters.base.adapter).
"""

from __future__ import annotations

import functools
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy.exc import SQLAlchemyError

from adapters.base.adapter import Notify
from adapters.base.failures import described, is_transient
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.redaction import quoted
from adapters.base.residents import ResidentSeal
from adapters.wuhe_zhonglian import feed
from ledger.contract.personal_data import mask_id_numbers
from ledger.runtime.retry import GaveUp, Outage, pause_until, retry_call

log = logging.getLogger(__name__)

CURSOR_STATE = "cursor"
REQUEST_TIMEOUT_S = 10.0
BACKOFF_S_MAX = 300.0


# Client errors that say "not now" rather than "never like this".
TRANSIENT_CLIENT_ERRORS = frozenset({408, 429})


class PlatformDown(Exception):
    """The platform did not answer with a readable page; try again later."""


class PlatformRefuses(PlatformDown):
    """The platform answered a client error: asking again the same way will not help."""


def saved_cursor(outbox: Outbox, seal: ResidentSeal) -> str | None:
    """The cursor the poller saved with the last page it took, or None before the first."""
    stored = outbox.state.get(CURSOR_STATE)
    return None if stored is None else seal.open_text(CURSOR_STATE, stored)


class PollingSource:
    def __init__(self, base_url: str, interval_s: float, outbox: Outbox) -> None:
        if interval_s <= 0:
            raise ValueError("the polling interval must be positive")
        self._points_url = base_url.rstrip("/") + "/api/points"
        self._interval_s = interval_s
        self._longest_s = max(interval_s, BACKOFF_S_MAX)
        self._outbox = outbox
        self._outage = Outage(log, "%s", "polling again after %.1f s",
                              describe=_why_not_taken, ended_level=logging.INFO)
        self._refusal: str | None = None  # the refusal last logged, to log each one once

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None:
        cursor = saved_cursor(self._outbox, intake.seal)  # survives restarts
        log.info("adapter %s polls %s after %s", intake.platform, self._points_url,
                 quoted(cursor))
        while not stop.is_set():
            try:
                # The platform down or the outbox busy: nothing was stored and the cursor did
                # not move; the same page, later.
                following, accepted = retry_call(
                    functools.partial(self._poll, cursor, intake),
                    transient=_passes, outage=self._outage, pause=pause_until(stop),
                    first_s=self._interval_s, longest_s=self._longest_s)
            except PlatformRefuses as error:
                self._note_refusal(str(error))
                stop.wait(self._longest_s)
                continue
            except GaveUp:
                return
            self._note_acceptance()
            if accepted:
                notify()  # the pump publishes at once instead of at its next wake-up
            if following is not None and following != cursor:
                cursor = following  # more may be waiting: ask again at once
                continue
            stop.wait(self._interval_s)

    def _poll(self, cursor: str | None, intake: Intake) -> tuple[str | None, int]:
        return self._take(self.fetch(cursor), cursor, intake)

    def fetch(self, cursor: str | None) -> bytes:
        """One page; PlatformDown for anything but a readable 2xx page."""
        url = self._points_url if cursor is None else \
            f"{self._points_url}?{urllib.parse.urlencode({'after': cursor})}"
        try:
            with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310 (the operator's http URL)
                page: bytes = response.read()
        except urllib.error.HTTPError as error:
            # Its response is closed now: the error outlives this call (the retry keeps it).
            error.close()
            if 400 <= error.code < 500 and error.code not in TRANSIENT_CLIENT_ERRORS:
                raise PlatformRefuses(f"HTTP {error.code} from {url}") from None
            raise PlatformDown(f"HTTP {error.code} from {url}") from None
        except (urllib.error.URLError, OSError) as error:  # refused, reset, timed out
            raise PlatformDown(f"{url}: {error}") from None
        if not feed.is_readable(page):
            raise PlatformDown(f"{url} answered a page that is not JSON {{\"items\": [...]}}")
        return page

    def _take(self, page: bytes, cursor: str | None, intake: Intake) -> tuple[str | None, int]:
        """Accept the page's records and move the cursor, in one outbox transaction; the
        following cursor and how many records were new."""
        following = feed.next_cursor(page)
        records = feed.native_records(page, f"page after={cursor or '(start)'}")
        with self._outbox.transaction() as transaction:
            report = intake.accept(records, within=transaction)
            if following is not None and following != cursor:
                transaction.state.set(CURSOR_STATE,
                                      intake.seal.seal_text(CURSOR_STATE, following))
        if report.quarantined:
            log.warning("%d record(s) of the page after %s quarantined",
                        len(report.quarantined), quoted(cursor))
        return following, report.accepted

    def _note_refusal(self, detail: str) -> None:
        if self._refusal != detail:
            log.error("the platform refuses the poll (%s): check the adapter's --url and its "
                      "access to the platform; asking again every %.0f s", mask_id_numbers(detail),
                      self._longest_s)
            self._refusal = detail

    def _note_acceptance(self) -> None:
        if self._refusal is not None:
            log.info("the platform is available again")
            self._refusal = None


def _passes(error: BaseException) -> bool:
    """The platform down (not refusing), or the outbox busy with another writer."""
    if isinstance(error, PlatformDown):
        return not isinstance(error, PlatformRefuses)
    return isinstance(error, SQLAlchemyError) and is_transient(error)


def _why_not_taken(error: BaseException) -> str:
    if isinstance(error, SQLAlchemyError):
        return f"the outbox could not store the page ({described(error)}); retrying with back-off"
    return f"the platform is unavailable, retrying with back-off: {mask_id_numbers(str(error))}"
