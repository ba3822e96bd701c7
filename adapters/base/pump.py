"""Publishes the outbox in seq order, marking events published only once they are confirmed.

Runs in its own thread beside the adapter's source. While the transport is unavailable the
source goes on accepting records into the outbox; the pump retries with capped back-off and
sends the backlog, oldest first, once the broker is back. A crash between publishing and marking
only means those events are published again: the ledger records each event once.

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
from adapters.base.outbox import Outbox, PendingEvent
from adapters.base.transport import Transport, TransportUnavailable
from ledger.infra.amqp.backoff import Backoff

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
IDLE_WAIT_S = 0.5
RETRY_DELAY_S_MIN = 0.5
RETRY_DELAY_S_MAX = 30.0
# A lock held longer than this is not another writer's transaction: restart and find out.
OUTBOX_BUSY_S_MAX = 300.0


class OutboxPump:
    def __init__(self, outbox: Outbox, transport: Transport, chunk_size: int = CHUNK_SIZE) -> None:
        self._outbox = outbox
        self._transport = transport
        self._chunk_size = chunk_size
        self._wake = threading.Event()
        self._stop = threading.Event()
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
        read_through = self._outbox.published_through()
        # (events sent before the end of this batch, its last seq), oldest first
        batch_ends: deque[tuple[int, int]] = deque()
        sent_before = 0
        marked = 0

        def next_batch() -> list[PendingEvent]:
            nonlocal read_through, sent_before
            events = self._outbox.pending(self._chunk_size, after_seq=read_through)
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
                self._outbox.mark_published(through)

        return self._transport.send_stream(next_batch, on_taken)

    def run(self) -> None:
        """Until stop(): publish, wait for news, and back off while the transport is down or
        the outbox busy. Raises what cannot be retried (the transport is closed either way)."""
        try:
            self._run()
        finally:
            self._transport.close()

    def _run(self) -> None:
        backoff = Backoff(RETRY_DELAY_S_MIN, RETRY_DELAY_S_MAX)
        down_since: float | None = None
        busy_since: float | None = None
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.publish_pending()
            except TransportUnavailable as error:
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("cannot publish (%s); the outbox keeps the events and retries",
                                error)
                self._stop.wait(backoff.next_delay_s())
                continue
            except SQLAlchemyError as error:
                if not is_transient(error):
                    raise
                if busy_since is None:
                    busy_since = time.monotonic()
                    log.warning("the outbox is busy (%s); publishing retries", described(error))
                elif time.monotonic() - busy_since > OUTBOX_BUSY_S_MAX:
                    raise AdapterFailed(f"the outbox stayed busy for over {OUTBOX_BUSY_S_MAX:.0f}"
                                        f" s ({described(error)})") from error
                self._stop.wait(backoff.next_delay_s())
                continue
            if down_since is not None or busy_since is not None:
                since = min(moment for moment in (down_since, busy_since) if moment is not None)
                log.warning("publishing again after %.1f s", time.monotonic() - since)
                down_since = busy_since = None
                backoff.reset()
            self._wake.wait(IDLE_WAIT_S)
