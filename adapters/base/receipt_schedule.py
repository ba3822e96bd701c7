"""When the receipt collector may ask the ledger about an event again (adapters.base.receipts).

An event is asked about at most once every `interval_s`. An event the ledger recorded but no
checkpoint includes yet waits for the next checkpoint, and so do the events published after it
(the ledger records an adapter's events in the order it publishes them): they are not asked
about either until it is due. An event the ledger does not have (not received yet, or lost) or
whose proof did not verify is asked about less and less often, its wait doubling up to
`longest_s`; the events after it are asked about meanwhile, so one lost event does not keep
the others from their receipts.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

# Events waiting at once; beyond that the soonest due are forgotten (and so asked at once).
WAITING_EVENTS_MAX = 10_000


class Wait(Enum):
    NONE = "ask now"
    FOR_CHECKPOINT = "recorded; it and the events after it wait for the next checkpoint"
    FOR_LEDGER = "not recorded, or its proof failed; asked again later"


@dataclass
class _Waiting:
    until: float
    wait_s: float
    kind: Wait


class AskSchedule:
    def __init__(self, interval_s: float, longest_s: float,
                 clock: Callable[[], float] = time.monotonic,
                 waiting_max: int = WAITING_EVENTS_MAX) -> None:
        assert 0 < interval_s <= longest_s
        self._interval_s = interval_s
        self._longest_s = longest_s
        self._clock = clock
        self._waiting_max = waiting_max
        self._waiting: dict[int, _Waiting] = {}

    def wait_of(self, seq: int) -> Wait:
        waiting = self._waiting.get(seq)
        if waiting is None or waiting.until <= self._clock():
            return Wait.NONE
        return waiting.kind

    def for_checkpoint(self, seq: int) -> None:
        """Recorded, not yet in a checkpoint: ask again in `interval_s`."""
        self._wait(seq, self._interval_s, Wait.FOR_CHECKPOINT)

    def for_ledger(self, seq: int) -> None:
        """Not recorded or not proven: ask again after twice the last wait (at most
        `longest_s`; the first time `interval_s`)."""
        previous = self._waiting.get(seq)
        wait_s = self._interval_s if previous is None or previous.kind is not Wait.FOR_LEDGER \
            else min(2 * previous.wait_s, self._longest_s)
        self._wait(seq, wait_s, Wait.FOR_LEDGER)

    def forget(self, seq: int) -> None:
        """Proven or rejected: never asked about again."""
        self._waiting.pop(seq, None)

    def _wait(self, seq: int, wait_s: float, kind: Wait) -> None:
        self._waiting[seq] = _Waiting(self._clock() + wait_s, wait_s, kind)
        if len(self._waiting) > self._waiting_max:
            soonest = heapq.nsmallest(len(self._waiting) - self._waiting_max // 2,
                                      self._waiting.items(), key=lambda item: item[1].until)
            for forgotten, _waiting in soonest:
                del self._waiting[forgotten]
