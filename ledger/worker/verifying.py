"""Stage one of the next batches (signatures) in a helper process, while this batch is appended.

Ed25519 verification is the largest share of the ingest work that does not need the ledger's
history. Running it ahead in another process puts it on another core. A thread would not: the
appending thread and a verifying thread then hand the GIL to each other at every signature and
every database round trip, and both run slower than one thread alone.

The helper (helper.py, started by HelperProcess) is sent the keyring, the time and the allowed
skew with each batch and runs exactly `verify_delivery`, the function Ingestor.verify runs. The
broker thread submits each batch as soon as it is cut; the append thread waits for that batch's
future when it appends it, so the helper has work while the append waits for the database. At
most BATCHES_IN_HAND_MAX batches are verified ahead, like the batches the worker holds.

Whatever goes wrong with the helper (it cannot start; it died: HelperEnded; it is wedged: no
answer within RESULT_TIMEOUT_S), `result` answers None and the Ingestor verifies that batch
itself, and the next ones for HELPER_RESTART_DELAY_S: the helper can make ingestion faster,
never different. No lock is held while waiting for an answer, so a submit never waits behind it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.verification import Delivery
from ledger.service.ingest import Ingestor
from ledger.worker.batches import BATCHES_IN_HAND_MAX
from ledger.worker.helper_process import HelperEnded, HelperProcess
from ledger.worker.wire import Verified, decode_verdicts, encode_request

log = logging.getLogger(__name__)

# Far above the time a batch takes: only a wedged helper ever reaches it.
RESULT_TIMEOUT_S = 60.0
# After a failure, the batches are verified in-process for this long before trying again.
HELPER_RESTART_DELAY_S = 60.0
# How long closing waits for the helper to answer what it was sent before killing it.
HELPER_EXIT_TIMEOUT_S = 10.0


@dataclass(frozen=True, eq=False)
class Ahead:
    """One batch submitted to the helper: its deliveries and the future of its verdicts."""

    deliveries: Sequence[Delivery]
    answer: Future[bytes]
    helper: HelperProcess


class StageOneAhead:
    def __init__(self, ingestor: Ingestor, clock: Callable[[], datetime],
                 clock_skew_s: int) -> None:
        self._ingestor = ingestor
        self._clock = clock
        self._clock_skew_s = clock_skew_s
        self._helper: HelperProcess | None = None
        self._unavailable_until = 0.0
        # Submitted and not yet asked for, oldest first.
        self._outstanding: deque[Ahead] = deque()
        # Held only to change the fields above, never while waiting for the helper.
        self._lock = threading.Lock()

    @property
    def helper_pid(self) -> int | None:
        helper = self._helper
        return None if helper is None else helper.pid

    def start(self) -> None:
        """Start the helper now, so that its start-up overlaps the broker connection."""
        with self._lock:
            self._running_helper()

    def submit(self, deliveries: Sequence[Delivery]) -> Ahead | None:
        """The future verdicts of these deliveries, or None (then verify in-process).

        With BATCHES_IN_HAND_MAX batches already outstanding, the oldest one is dropped first."""
        if self._helper is None and time.monotonic() < self._unavailable_until:
            return None  # not worth encoding
        try:
            keyring = self._ingestor.keyring()
        except Exception as error:
            log.debug("no keyring for stage one ahead (%s)", type(error).__name__)
            return None
        request = encode_request(deliveries, keyring, self._clock(), self._clock_skew_s)
        with self._lock:
            while len(self._outstanding) >= BATCHES_IN_HAND_MAX:
                self._outstanding.popleft().answer.cancel()
            helper = self._running_helper()
            if helper is None:
                return None
            try:
                ahead = Ahead(deliveries, helper.submit(request), helper)
            except HelperEnded as error:
                ended = error
            else:
                self._outstanding.append(ahead)
                return ahead
        self._fail(helper, ended)
        return None

    def result(self, ahead: Ahead | None) -> Verified | None:
        """The verdicts of a submitted batch, or None when the Ingestor must verify itself."""
        if ahead is None:
            return None
        with self._lock:
            if ahead not in self._outstanding:
                return None  # dropped, or the helper failed meanwhile
            self._outstanding.remove(ahead)
        try:
            return decode_verdicts(ahead.answer.result(timeout=RESULT_TIMEOUT_S),
                                   ahead.deliveries)
        except CancelledError:
            return None
        except Exception as error:  # wedged, ended, or a garbled answer: all the same here
            self._fail(ahead.helper, error)
            return None

    def drop(self) -> None:
        """Forget every outstanding batch (their messages went back to the queue)."""
        with self._lock:
            self._drop_outstanding()

    def close(self) -> None:
        with self._lock:
            helper, self._helper = self._helper, None
            self._drop_outstanding()
        if helper is not None:
            helper.close(HELPER_EXIT_TIMEOUT_S)

    def _drop_outstanding(self) -> None:
        for ahead in self._outstanding:
            ahead.answer.cancel()  # not sent yet: never sent
        self._outstanding.clear()

    def _running_helper(self) -> HelperProcess | None:
        if self._helper is not None:
            return self._helper
        if time.monotonic() < self._unavailable_until:
            return None
        try:
            self._helper = HelperProcess()
        except OSError as error:
            self._note_failure(error)
        return self._helper

    def _fail(self, helper: HelperProcess, error: BaseException) -> None:
        with self._lock:
            if self._helper is not helper:
                return  # that helper is gone already
            self._helper = None
            self._drop_outstanding()
            self._note_failure(error)
        helper.kill()  # a wedged or garbled helper must not answer anything more

    def _note_failure(self, error: BaseException) -> None:
        log.warning("the stage-one helper failed (%s); verifying in-process for %.0f s",
                    type(error).__name__, HELPER_RESTART_DELAY_S)
        self._unavailable_until = time.monotonic() + HELPER_RESTART_DELAY_S
