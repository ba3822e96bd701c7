"""Stage one of the next batch (signatures) in a helper process, while this batch is appended.

Ed25519 verification is the largest share of the ingest work that does not need the ledger's
history. Running it one batch ahead in another process puts it on another core. A thread would
not: the appending thread and a verifying thread then hand the GIL to each other at every
signature and every database round trip, and both run slower than one thread alone.

The helper (stage_one_helper) gets the keyring, the time and the allowed skew with each batch and
runs exactly `verify_delivery`, the function Ingestor.verify runs. At most one batch is
outstanding. Whatever goes wrong with the helper (it cannot start, it died, it is wedged),
`result` answers None and the Ingestor verifies that batch itself: the helper can make ingestion
faster, never different.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import IO

from ledger.infra.amqp.stage_one_helper import FRAME_HEADER, Verified
from ledger.service.ingest import Ingestor
from ledger.service.verification import Delivery

log = logging.getLogger(__name__)

HELPER_COMMAND = (sys.executable, "-m", "ledger.infra.amqp.stage_one_helper")
# Far above the time a batch takes: only a wedged helper ever reaches it.
RESULT_TIMEOUT_S = 60.0
# After a failure, the batches are verified in-process for this long before trying again.
HELPER_RESTART_DELAY_S = 60.0
HELPER_EXIT_TIMEOUT_S = 10.0
READ_CHUNK_BYTES = 1 << 20


class _HelperFailed(Exception):
    """The helper did not answer (in time)."""


class StageOneAhead:
    def __init__(self, ingestor: Ingestor, clock: Callable[[], datetime],
                 clock_skew_s: int) -> None:
        self._ingestor = ingestor
        self._clock = clock
        self._clock_skew_s = clock_skew_s
        self._helper: subprocess.Popen[bytes] | None = None
        self._outstanding: int | None = None
        self._next_ticket = 0
        self._unavailable_until = 0.0

    @property
    def helper_pid(self) -> int | None:
        return None if self._helper is None else self._helper.pid

    def start(self) -> None:
        """Start the helper now, so that its start-up overlaps the broker connection."""
        self._running_helper()

    def submit(self, deliveries: Sequence[Delivery]) -> int | None:
        """A ticket for the verdicts of these deliveries, or None (then verify in-process).

        The previous ticket must have been redeemed or dropped (see `result` and `drop`)."""
        if self._outstanding is not None:
            self.drop()
        helper = self._running_helper()
        if helper is None:
            return None
        try:
            keyring = self._ingestor.keyring()
        except Exception as error:
            log.debug("no keyring for stage one ahead (%s)", type(error).__name__)
            return None
        request = pickle.dumps((list(deliveries), keyring, self._clock(), self._clock_skew_s),
                               protocol=pickle.HIGHEST_PROTOCOL)
        try:
            assert helper.stdin is not None
            helper.stdin.write(FRAME_HEADER.pack(len(request)) + request)
            helper.stdin.flush()
        except OSError as error:
            self._fail(error)
            return None
        self._next_ticket += 1
        self._outstanding = self._next_ticket
        return self._outstanding

    def result(self, ticket: int | None) -> Verified | None:
        """The verdicts for that ticket, or None when the Ingestor must verify itself."""
        if ticket is None or ticket != self._outstanding or self._helper is None:
            return None
        self._outstanding = None
        try:
            assert self._helper.stdout is not None
            payload = _read_frame(self._helper.stdout, time.monotonic() + RESULT_TIMEOUT_S)
            # The helper is our own child process, on a private pipe.
            verified: Verified = pickle.loads(payload)  # noqa: S301
        except Exception as error:  # wedged, ended, or a garbled answer: all the same here
            self._fail(error)
            return None
        return verified

    def drop(self) -> None:
        """Forget the outstanding batch (its messages went back to the queue)."""
        if self._outstanding is not None:
            self.result(self._outstanding)

    def close(self) -> None:
        helper, self._helper = self._helper, None
        self._outstanding = None
        if helper is not None:
            _end(helper)

    def _running_helper(self) -> subprocess.Popen[bytes] | None:
        if self._helper is not None:
            return self._helper
        if time.monotonic() < self._unavailable_until:
            return None
        try:
            self._helper = subprocess.Popen(  # noqa: S603 (our interpreter, our module)
                HELPER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as error:
            self._fail(error)
            return None
        return self._helper

    def _fail(self, error: BaseException) -> None:
        log.warning("the stage-one helper failed (%s); verifying in-process for %.0f s",
                    type(error).__name__, HELPER_RESTART_DELAY_S)
        self._unavailable_until = time.monotonic() + HELPER_RESTART_DELAY_S
        self.close()


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
