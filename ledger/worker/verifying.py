"""Stage one of the next batches (signatures) in a helper process, while this batch is appended.

Ed25519 verification is the largest share of the ingest work that does not need the ledger's
history. Running it ahead in another process puts it on another core. A thread would not: the
appending thread and a verifying thread then hand the GIL to each other at every signature and
every database round trip, and both run slower than one thread alone.

The helper is the one process of a ProcessPoolExecutor. It is sent the keyring, the time and the
allowed skew with each batch and runs exactly `verify_delivery`, the function Ingestor.verify
runs (helper.py). The broker thread submits each batch as soon as it is cut; the append thread
waits for that batch's future when it appends it, so the helper has work while the append waits
for the database. At most BATCHES_IN_HAND_MAX batches are verified ahead, like the batches the
worker holds.

Whatever goes wrong with the helper (it cannot start, it died: BrokenProcessPool; it is wedged:
no answer within RESULT_TIMEOUT_S), `result` answers None and the Ingestor verifies that batch
itself, and the next ones for HELPER_RESTART_DELAY_S: the helper can make ingestion faster,
never different. No lock is held while waiting for an answer, so a submit never waits behind it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime

from ledger.service.ingest import Ingestor
from ledger.service.verification import Delivery
from ledger.worker.batches import BATCHES_IN_HAND_MAX
from ledger.worker.helper import serve_the_worker, verify_request
from ledger.worker.wire import Verified, decode_verdicts, encode_request

log = logging.getLogger(__name__)

# A fresh interpreter that imports only what verifying needs (helper.py): a forked copy of the
# worker would carry the worker's memory, and forking a process with threads is unsafe.
HELPER_START_METHOD = "spawn"
# Far above the time a batch takes: only a wedged helper ever reaches it.
RESULT_TIMEOUT_S = 60.0
# After a failure, the batches are verified in-process for this long before trying again.
HELPER_RESTART_DELAY_S = 60.0
# How long closing waits for the batch the helper is verifying before it kills the helper.
HELPER_EXIT_TIMEOUT_S = 10.0


@dataclass(frozen=True, eq=False)
class Ahead:
    """One batch submitted to the helper: its deliveries and the future of its verdicts."""

    deliveries: Sequence[Delivery]
    answer: Future[bytes]
    pool: _Helper


@dataclass(frozen=True, eq=False)
class _Helper:
    pool: ProcessPoolExecutor
    # The helper's first task answers its process id (to kill it when it is wedged).
    pid: Future[int]
    # Every batch submitted and not yet verified, dropped ones included.
    unfinished: list[Future[bytes]] = field(default_factory=list)


class StageOneAhead:
    def __init__(self, ingestor: Ingestor, clock: Callable[[], datetime],
                 clock_skew_s: int) -> None:
        self._ingestor = ingestor
        self._clock = clock
        self._clock_skew_s = clock_skew_s
        self._helper: _Helper | None = None
        self._unavailable_until = 0.0
        # Submitted and not yet asked for, oldest first.
        self._outstanding: deque[Ahead] = deque()
        # Held only to change the fields above, never while waiting for the helper.
        self._lock = threading.Lock()

    @property
    def helper_pid(self) -> int | None:
        helper = self._helper
        if helper is None:
            return None
        try:
            return helper.pid.result(timeout=RESULT_TIMEOUT_S)
        except Exception:  # it never started: the next submit finds it broken
            return None

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
                answer = helper.pool.submit(verify_request, request)
            except RuntimeError as error:  # BrokenProcessPool is one: the helper died
                broken = error
            else:
                ahead = Ahead(deliveries, answer, helper)
                self._outstanding.append(ahead)
                helper.unfinished[:] = [*(f for f in helper.unfinished if not f.done()), answer]
                return ahead
        self._fail(helper, broken)
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
            self._fail(ahead.pool, error)
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
            _end(helper, kill=False)

    def _drop_outstanding(self) -> None:
        for ahead in self._outstanding:
            ahead.answer.cancel()
        self._outstanding.clear()

    def _running_helper(self) -> _Helper | None:
        if self._helper is not None:
            return self._helper
        if time.monotonic() < self._unavailable_until:
            return None
        try:
            pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context(HELPER_START_METHOD),
                initializer=serve_the_worker)
            self._helper = _Helper(pool, pool.submit(os.getpid))
        except OSError as error:
            self._note_failure(error)
            return None
        return self._helper

    def _fail(self, helper: _Helper, error: BaseException) -> None:
        with self._lock:
            if self._helper is not helper:
                return  # that helper is gone already
            self._helper = None
            self._drop_outstanding()
            self._note_failure(error)
        # A helper that died is gone already; one that is wedged or garbled must be ended.
        _end(helper, kill=not isinstance(error, BrokenProcessPool))

    def _note_failure(self, error: BaseException) -> None:
        log.warning("the stage-one helper failed (%s); verifying in-process for %.0f s",
                    type(error).__name__, HELPER_RESTART_DELAY_S)
        self._unavailable_until = time.monotonic() + HELPER_RESTART_DELAY_S


def _end(helper: _Helper, kill: bool) -> None:
    """Let the helper finish the batch it is verifying, unless it is to be killed at once; kill
    it if it does not finish in time; then wait for its process to end."""
    for answer in helper.unfinished:
        answer.cancel()  # those not begun
    if not kill:
        kill = bool(wait_for_futures(helper.unfinished, timeout=HELPER_EXIT_TIMEOUT_S).not_done)
    if kill and helper.pid.done() and not helper.pid.cancelled() \
            and helper.pid.exception() is None:
        # Still our child until the pool collects it: the pid cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.kill(helper.pid.result(), signal.SIGKILL)
    helper.pool.shutdown(wait=True, cancel_futures=True)
