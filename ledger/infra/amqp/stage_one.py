"""Stage one of the next batch (signatures) in a helper process, while this batch is appended.

Ed25519 verification is the largest share of the ingest work that does not need the ledger's
history. Running it one batch ahead in another process puts it on another core; a thread would
not, because the appending thread and the verifying thread then hand the GIL back and forth at
every signature and every database round trip.

The helper gets the keyring, the time and the allowed skew with each batch and runs exactly
`verify_delivery`, the function the Ingestor runs itself. Whatever goes wrong with the helper
(it died, it is slow, it cannot start), `result` answers None and the Ingestor verifies the batch
in-process: the helper can make ingestion faster, never different.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime

from ledger.domain.outcomes import Outcome
from ledger.service.ingest import Ingestor
from ledger.service.keyring import Keyring
from ledger.service.verification import Delivery, VerifiedEvent, verify_delivery

log = logging.getLogger(__name__)

# Far above the time a batch takes: only a wedged helper ever reaches it.
RESULT_TIMEOUT_S = 60.0
ORPHAN_CHECK_INTERVAL_S = 1.0

Verified = list[VerifiedEvent | Outcome]


def verify_all(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
               clock_skew_s: int) -> Verified:
    """What Ingestor.verify does, in the helper process."""
    return [verify_delivery(delivery, keyring, now, clock_skew_s) for delivery in deliveries]


def _start_helper(consumer_pid: int) -> None:
    """The consumer decides when to stop: a Ctrl-C or SIGTERM sent to the whole process group
    must not kill the helper under the batch in hand. It exits when the consumer closes it, or
    soon after the consumer is gone (killed: nobody else would end it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def exit_when_orphaned() -> None:
        while os.getppid() == consumer_pid:
            time.sleep(ORPHAN_CHECK_INTERVAL_S)
        os._exit(0)

    threading.Thread(target=exit_when_orphaned, name="orphan-check", daemon=True).start()


def _warm_up() -> None:
    """Nothing: submitting it makes the pool start its process."""


class StageOneAhead:
    def __init__(self, ingestor: Ingestor, clock: Callable[[], datetime],
                 clock_skew_s: int) -> None:
        self._ingestor = ingestor
        self._clock = clock
        self._clock_skew_s = clock_skew_s
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the helper now, so that its start-up overlaps the broker connection."""
        pool = self._pool_or_none()
        if pool is not None:
            pool.submit(_warm_up)

    def submit(self, deliveries: Sequence[Delivery]) -> Future[Verified] | None:
        pool = self._pool_or_none()
        if pool is None:
            return None
        try:
            keyring = self._ingestor.keyring()
        except Exception as error:
            log.debug("no keyring for stage one ahead (%s)", type(error).__name__)
            return None
        try:
            return pool.submit(verify_all, list(deliveries), keyring, self._clock(),
                               self._clock_skew_s)
        except Exception as error:
            self._discard_pool(error)
            return None

    def result(self, future: Future[Verified] | None) -> Verified | None:
        if future is None:
            return None
        try:
            return future.result(timeout=RESULT_TIMEOUT_S)
        except Exception as error:
            self._discard_pool(error)
            return None

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _pool_or_none(self) -> ProcessPoolExecutor | None:
        if self._pool is None:
            try:
                # spawn, not fork: the helper must not inherit the broker socket or the
                # database connections of this process.
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_helper, initargs=(os.getpid(),))
            except Exception as error:
                log.warning("cannot start the stage-one helper (%s); verifying in-process",
                            type(error).__name__)
                return None
        return self._pool

    def _discard_pool(self, error: BaseException) -> None:
        log.warning("the stage-one helper failed (%s); verifying in-process and restarting it",
                    type(error).__name__)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
