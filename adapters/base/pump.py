"""Publishes the outbox in seq order, marking events published only once they are confirmed.

Runs in its own thread beside the adapter's source. While the transport is unavailable the
source goes on accepting records into the outbox; the pump retries with capped back-off
(ledger.runtime.retry) and sends the backlog, oldest first, once the broker is back. A crash
between publishing and marking only means those events are published again: the ledger records
each event once.

The outbox busy with another writer (SQLite's "database is locked") is waited out the same way,
for at most OUTBOX_BUSY_S_MAX; any other failure ends `run` with the exception, which stops the
adapter (adapters.base.adapter): it never keeps accepting records while nothing is published.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from sqlalchemy.exc import SQLAlchemyError

from adapters.base.failures import AdapterFailed, described, is_transient
from adapters.base.outbox.events import EventOutbox, PendingEvent
from adapters.base.transport import Transport, TransportUnavailable
from ledger.runtime.retry import GaveUp, Outage, pause_until, retry_call

log = logging.getLogger(__name__)

CHUNK_EVENTS = 1000
IDLE_WAIT_S = 0.5
# A lock held longer than this is not another writer's transaction: restart and find out.
OUTBOX_BUSY_S_MAX = 300.0


class OutboxPump:
    def __init__(self, events: EventOutbox, transport: Transport,
                 chunk_size: int = CHUNK_EVENTS) -> None:
        self._events = events
        self._transport = transport
        self._chunk_size = chunk_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy_since: float | None = None
        self.published = 0

    def wake(self) -> None:
        """New events are in the outbox: publish now rather than at the next idle check."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def publish_pending(self) -> int:
        """Publish everything pending now; raises TransportUnavailable. Returns how many.

        Batches are read ahead while earlier ones are still being confirmed; the watermark
        moves only past batches whose every event is confirmed.
        """
        read_through = self._events.published_through()
        # (events sent before the end of this batch, its last seq), oldest first
        batch_ends: deque[tuple[int, int]] = deque()
        sent_before = 0
        marked = 0

        def next_batch() -> list[PendingEvent]:
            nonlocal read_through, sent_before
            events = self._events.pending(self._chunk_size, after_seq=read_through)
            if events:
                read_through = events[-1].seq
                sent_before += len(events)
                batch_ends.append((sent_before, read_through))
            return events

        def on_taken(taken: int) -> None:
            nonlocal marked
            through = None
            while batch_ends and batch_ends[0][0] <= taken:
                count, through = batch_ends.popleft()
                self.published += count - marked
                marked = count
            if through is not None:
                self._events.mark_published(through)

        return self._transport.send_stream(next_batch, on_taken)

    def run(self) -> None:
        """Until stop(): publish, wait for news, and back off while the transport is down or
        the outbox busy. Raises what cannot be retried (the transport is closed either way)."""
        try:
            self._run()
        finally:
            self._transport.close()

    def _run(self) -> None:
        outage = Outage(log, "%s", "publishing again after %.1f s", describe=_why_not_published)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                retry_call(self._publish_pending_within_busy_limit, transient=_passes,
                           outage=outage, pause=pause_until(self._stop))
            except GaveUp:
                return
            self._wake.wait(IDLE_WAIT_S)

    def _publish_pending_within_busy_limit(self) -> int:
        """publish_pending, raising AdapterFailed once the outbox has been busy for longer
        than OUTBOX_BUSY_S_MAX."""
        try:
            published = self.publish_pending()
        except SQLAlchemyError as error:
            if is_transient(error):
                now = time.monotonic()
                if self._busy_since is None:
                    self._busy_since = now
                elif now - self._busy_since > OUTBOX_BUSY_S_MAX:
                    raise AdapterFailed(f"the outbox stayed busy for over "
                                        f"{OUTBOX_BUSY_S_MAX:.0f} s ({described(error)})"
                                        ) from error
            raise
        self._busy_since = None
        return published


def _passes(error: BaseException) -> bool:
    """The broker away, or the outbox busy with another writer: publishing later gets past."""
    if isinstance(error, TransportUnavailable):
        return True
    return isinstance(error, SQLAlchemyError) and is_transient(error)


def _why_not_published(error: BaseException) -> str:
    if isinstance(error, TransportUnavailable):
        return f"cannot publish ({error}); the outbox keeps the events and retries"
    return f"the outbox is busy ({described(error)}); publishing retries"
