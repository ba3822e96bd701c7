"""Stage one of the next batches (signatures) in a helper process, while this batch is appended.

Ed25519 verification is the largest share of the ingest work that does not need the ledger's
history. Running it ahead in another process puts it on another core. A thread would not: the
appending thread and a verifying thread then hand the GIL to each other at every signature and
every database round trip, and both run slower than one thread alone.

The helper (stage_one_helper) gets the keyring, the time and the allowed skew with each batch and
runs exactly `verify_delivery`, the function Ingestor.verify runs. Up to three batches are
outstanding, answered in the order they were submitted: the consumer hands over each batch as
soon as it is cut and collects the oldest verdicts when it appends, so the helper has work while
the consumer waits for the database.
Whatever goes wrong with the helper (it cannot start, it died, it is wedged), `result` answers
None and the Ingestor verifies that batch itself: the helper can make ingestion faster, never
different.

The consumer submits from its broker thread and asks for results from its append thread; one
lock makes each call whole, so neither reads or closes a pipe the other is using. A submit
therefore waits while the append thread waits for an answer: the helper is busy then anyway,
with the batches submitted before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import wraps
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

from ledger.domain.verification import Delivery
from ledger.infra.amqp.stage_one_wire import (
    FRAME_HEADER,
    Verified,
    decode_verdicts,
    encode_request,
    frame,
    unmarshal,
)
from ledger.service.ingest import Ingestor

log = logging.getLogger(__name__)

HELPER_COMMAND = (sys.executable, "-m", "ledger.infra.amqp.stage_one_helper")
# Far above the time a batch takes: only a wedged helper ever reaches it.
RESULT_TIMEOUT_S = 60.0
# After a failure, the batches are verified in-process for this long before trying again.
HELPER_RESTART_DELAY_S = 60.0
HELPER_EXIT_TIMEOUT_S = 10.0
READ_CHUNK_BYTES = 1 << 20
OUTSTANDING_MAX = 3


class _HelperFailed(Exception):
    """The helper did not answer (in time)."""


_Params = ParamSpec("_Params")
_Answer = TypeVar("_Answer")


def _whole(method: Callable[Concatenate[StageOneAhead, _Params], _Answer],
           ) -> Callable[Concatenate[StageOneAhead, _Params], _Answer]:
    """One call at a time, whichever thread makes it."""
    @wraps(method)
    def locked(self: StageOneAhead, /, *args: _Params.args, **kwargs: _Params.kwargs) -> _Answer:
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class StageOneAhead:
    def __init__(self, ingestor: Ingestor, clock: Callable[[], datetime],
                 clock_skew_s: int) -> None:
        self._ingestor = ingestor
        self._clock = clock
        self._clock_skew_s = clock_skew_s
        self._helper: subprocess.Popen[bytes] | None = None
        # (ticket, deliveries) of each batch submitted and not yet answered, oldest first.
        self._outstanding: deque[tuple[int, Sequence[Delivery]]] = deque()
        self._next_ticket = 0
        self._unavailable_until = 0.0
        self._lock = threading.RLock()

    @property
    def helper_pid(self) -> int | None:
        return None if self._helper is None else self._helper.pid

    @_whole
    def start(self) -> None:
        """Start the helper now, so that its start-up overlaps the broker connection."""
        self._running_helper()

    @_whole
    def submit(self, deliveries: Sequence[Delivery]) -> int | None:
        """A ticket for the verdicts of these deliveries, or None (then verify in-process).

        With OUTSTANDING_MAX batches already outstanding, the oldest one is dropped first."""
        while len(self._outstanding) >= OUTSTANDING_MAX:
            self._discard_oldest()
        helper = self._running_helper()
        if helper is None:
            return None
        try:
            keyring = self._ingestor.keyring()
        except Exception as error:
            log.debug("no keyring for stage one ahead (%s)", type(error).__name__)
            return None
        request = frame(encode_request(deliveries, keyring, self._clock(), self._clock_skew_s))
        try:
            assert helper.stdin is not None
            _write_all(helper.stdin, request, time.monotonic() + RESULT_TIMEOUT_S)
        except (OSError, _HelperFailed) as error:
            self._fail(error)
            return None
        self._next_ticket += 1
        self._outstanding.append((self._next_ticket, deliveries))
        return self._next_ticket

    @_whole
    def result(self, ticket: int | None) -> Verified | None:
        """The verdicts for that ticket, or None when the Ingestor must verify itself.

        Batches submitted before it and not asked for are dropped."""
        if ticket is None or self._helper is None:
            return None
        if not any(outstanding == ticket for outstanding, _ in self._outstanding):
            return None
        while self._outstanding[0][0] != ticket:
            self._discard_oldest()
            if self._helper is None:
                return None
        _, deliveries = self._outstanding.popleft()
        try:
            return decode_verdicts(self._read_answer(), deliveries)
        except Exception as error:  # wedged, ended, or a garbled answer: all the same here
            self._fail(error)
            return None

    @_whole
    def drop(self) -> None:
        """Forget every outstanding batch (their messages went back to the queue)."""
        while self._outstanding and self._helper is not None:
            self._discard_oldest()
        self._outstanding.clear()

    @_whole
    def close(self) -> None:
        helper, self._helper = self._helper, None
        self._outstanding.clear()
        if helper is not None:
            _end(helper)

    def _discard_oldest(self) -> None:
        """Read and forget the oldest outstanding answer, so the next one can be read."""
        self._outstanding.popleft()
        if self._helper is None:
            self._outstanding.clear()
            return
        try:
            self._read_answer()
        except Exception as error:
            self._fail(error)

    def _read_answer(self) -> Any:
        assert self._helper is not None and self._helper.stdout is not None
        return unmarshal(_read_frame(self._helper.stdout, time.monotonic() + RESULT_TIMEOUT_S))

    def _running_helper(self) -> subprocess.Popen[bytes] | None:
        if self._helper is not None:
            return self._helper
        if time.monotonic() < self._unavailable_until:
            return None
        try:
            self._helper = subprocess.Popen(  # noqa: S603 (our interpreter, our module)
                HELPER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert self._helper.stdin is not None
            os.set_blocking(self._helper.stdin.fileno(), False)
        except OSError as error:
            self._fail(error)
            return None
        return self._helper

    def _fail(self, error: BaseException) -> None:
        log.warning("the stage-one helper failed (%s); verifying in-process for %.0f s",
                    type(error).__name__, HELPER_RESTART_DELAY_S)
        self._unavailable_until = time.monotonic() + HELPER_RESTART_DELAY_S
        self.close()


def _write_all(stream: IO[bytes], data: bytes, deadline: float) -> None:
    """Write through the (non-blocking) pipe as the helper reads it, giving up at the deadline:
    a wedged helper must not wedge the consumer."""
    descriptor = stream.fileno()
    view = memoryview(data)
    while True:
        with contextlib.suppress(BlockingIOError):  # the pipe is full: wait below
            view = view[os.write(descriptor, view):]
        if not view:
            return
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0 or not select.select([], [descriptor], [], remaining_s)[1]:
            raise _HelperFailed("the helper did not take its batch in time")


def _read_frame(stream: IO[bytes], deadline: float) -> bytes:
    header = _read_exactly(stream, FRAME_HEADER.size, deadline)
    (length,) = FRAME_HEADER.unpack(header)
    return _read_exactly(stream, length, deadline)


def _read_exactly(stream: IO[bytes], length: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    missing = length
    descriptor = stream.fileno()
    while missing:
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0 or not select.select([descriptor], [], [], remaining_s)[0]:
            raise _HelperFailed("the helper did not answer in time")
        chunk = os.read(descriptor, min(missing, READ_CHUNK_BYTES))
        if not chunk:
            raise _HelperFailed("the helper ended")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _end(helper: subprocess.Popen[bytes]) -> None:
    """Closing its stdin ends the helper; kill it if it does not end in time."""
    for stream in (helper.stdin, helper.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):  # a helper that died leaves a broken pipe
                stream.close()
    try:
        helper.wait(timeout=HELPER_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
