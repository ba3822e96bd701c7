"""Capped exponential back-off for retrying the database and reconnecting to the broker."""

from __future__ import annotations


class Backoff:
    """Delays of first_s, 2·first_s, 4·first_s, … never above max_s."""

    def __init__(self, first_s: float, max_s: float) -> None:
        assert 0 < first_s <= max_s
        self._first_s = first_s
        self._max_s = max_s
        self._next_s = first_s

    @property
    def longest_delay_s(self) -> float:
        return self._max_s

    def next_delay_s(self) -> float:
        delay = self._next_s
        self._next_s = min(self._next_s * 2, self._max_s)
        return delay

    def reset(self) -> None:
        self._next_s = self._first_s
