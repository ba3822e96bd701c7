"""Checking batches of entries' signatures, here or on the machine's other cores, and naming the
first entry (in seq order) whose signature does not verify.

Ed25519 verification is most of a full audit's work, and each entry's is independent of the
others': a pool of processes verifies page-sized batches while this process reads and hashes
the next pages. Results are taken in the order the batches were given, so the first refusal
found is the one with the lowest seq; the batches in flight are bounded, so memory stays flat
whatever the log's size. After a refusal nothing more is sent: the audit has failed already.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from ledger.outside_audit.event_signatures import (
    KeyHistory,
    Refusal,
    SignedFields,
    first_refusal,
)

# Starting the pool costs about a third of a second a process: below this many entries one
# process is as quick.
POOL_ENTRIES_MIN = 20_000
# Batches handed to the pool and not yet answered, per process: enough to keep each busy.
BATCHES_IN_FLIGHT_PER_WORKER = 3

# A pool process's keys, installed once when it starts rather than sent with every batch.
_worker_keys: KeyHistory | None = None


def _install_keys(keys: KeyHistory) -> None:
    global _worker_keys
    _worker_keys = keys


def _check_batch(batch: Sequence[SignedFields]) -> Refusal | None:
    assert _worker_keys is not None, "the pool's initializer installs the keys"
    return first_refusal(batch, _worker_keys)


def workers_for(entries: int) -> int:
    """Processes worth starting for a log of this many entries: 0 (check here) or the cores
    this process may run on."""
    cores = len(os.sched_getaffinity(0))
    return cores if entries >= POOL_ENTRIES_MIN and cores > 1 else 0


class SignatureChecks:
    """Batches in, the first refusal out. With `workers` = 0 each batch is checked at once."""

    def __init__(self, keys: KeyHistory, workers: int) -> None:
        self._keys = keys
        self._refusal: Refusal | None = None
        self.checked = 0
        self._in_flight: deque[Future[Refusal | None]] = deque()
        self._in_flight_max = BATCHES_IN_FLIGHT_PER_WORKER * workers
        # Spawned, not forked: this process runs threads (the page reader), and a fork copies
        # whatever locks they hold.
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_install_keys, initargs=(keys,)) if workers else None

    def __enter__(self) -> SignatureChecks:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, batch: Sequence[SignedFields]) -> None:
        if self._refusal is not None or not batch:
            return
        self.checked += len(batch)
        if self._pool is None:
            self._refusal = first_refusal(batch, self._keys)
            return
        self._in_flight.append(self._pool.submit(_check_batch, batch))
        while len(self._in_flight) > self._in_flight_max:
            self._take_oldest()

    def first_refusal(self) -> Refusal | None:
        """Once every batch is given: the refusal with the lowest seq, if any."""
        while self._in_flight and self._refusal is None:
            self._take_oldest()
        return self._refusal

    def _take_oldest(self) -> None:
        refusal = self._in_flight.popleft().result()
        if refusal is not None and self._refusal is None:
            self._refusal = refusal
            for future in self._in_flight:
                future.cancel()
            self._in_flight.clear()
