"""Publishes the outbox in seq order, marking events published only once they are confirmed.

Runs in its own thread beside the adapter's source. While the transport is unavailable the
source goes on accepting records into the outbox; the pump retries with capped back-off and
sends the backlog, oldest first, once the broker is back. A crash between publishing and marking
only means those events are published again: the ledger records each event once.
"""

from __future__ import annotations

import logging
import threading
import time

from adapters.base.outbox import Outbox
from adapters.base.transport import Transport, TransportUnavailable
from ledger.infra.amqp.backoff import Backoff

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
IDLE_WAIT_S = 0.5
RETRY_DELAY_S_MIN = 0.5
RETRY_DELAY_S_MAX = 30.0


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
        """Publish everything pending now; raises TransportUnavailable. Returns how many."""
        sent = 0
        while events := self._outbox.pending(self._chunk_size):
            self._transport.send(events)
            self._outbox.mark_published(events[-1].seq)
            sent += len(events)
            self.published += len(events)
        return sent

    def run(self) -> None:
        """Until stop(): publish, wait for news, and back off while the transport is down."""
        backoff = Backoff(RETRY_DELAY_S_MIN, RETRY_DELAY_S_MAX)
        down_since: float | None = None
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.publish_pending()
            except TransportUnavailable as error:
                delay_s = backoff.next_delay_s()
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("cannot publish (%s); the outbox keeps the events and retries",
                                error)
                self._stop.wait(delay_s)
                continue
            if down_since is not None:
                log.warning("publishing again after %.1f s", time.monotonic() - down_since)
                down_since = None
                backoff.reset()
            self._wake.wait(IDLE_WAIT_S)
        self._transport.close()
