"""One way to retry: capped exponential back-off with jitter (tenacity), a wait that a stop cuts
short, and an outage logged once as it begins and once as it ends, never once per attempt.

Every loop that waits out the database, the broker or a platform goes through `retry_call`:
the consumer's reconnection and its batches, the notice relay, an adapter's pump, notice
listener and poller. The jitter keeps a township's adapters, restarted together after an
outage of the bank's broker, from reconnecting in step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

T = TypeVar("T")

RETRY_DELAY_S_MIN = 0.5
RETRY_DELAY_S_MAX = 30.0

# Waits about that many seconds; False when the work should be given up instead (the process is
# stopping, or what the work was for is gone).
Pause = Callable[[float], bool]


class GaveUp(Exception):
    """The pause between two attempts was cut short: the work was not done."""


def pause_until(stop: threading.Event) -> Pause:
    """A pause that ends early, and gives up, once `stop` is set."""
    return lambda delay_s: not stop.wait(delay_s)


def describe_type(error: BaseException) -> str:
    """The error's class only: its text may quote what failed (an event, a URL with a password)."""
    return type(error).__name__


@dataclass
class Outage:
    """Says that something is unavailable once when it starts failing and once when it is back.

    `began` is a %-format of one argument (why: `describe(error)`), `ended` of one (the seconds
    it lasted), said at `ended_level` (a warning unless told otherwise). One Outage per thing
    watched, kept across calls: an outage spans them.
    """

    log: logging.Logger
    began: str
    ended: str
    describe: Callable[[BaseException], str] = describe_type
    clock: Callable[[], float] = time.monotonic
    ended_level: int = logging.WARNING
    since: float | None = field(default=None, init=False)

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException, next_attempt_s: float) -> None:
        if self.since is None:
            self.since = self.clock()
            self.log.warning(self.began, self.describe(error))
        else:
            self.log.debug("still failing (%s); next attempt in %.1f s", self.describe(error),
                           next_attempt_s)

    def over(self) -> None:
        if self.since is not None:
            self.log.log(self.ended_level, self.ended, self.clock() - self.since)
            self.since = None


def backoff(first_s: float = RETRY_DELAY_S_MIN, longest_s: float = RETRY_DELAY_S_MAX
            ) -> tenacity.wait.wait_base:
    """first_s, 2·first_s, 4·first_s, … never above longest_s, each plus up to first_s of
    jitter (still never above longest_s)."""
    assert 0 < first_s <= longest_s
    return tenacity.wait_exponential_jitter(multiplier=first_s, max=longest_s, jitter=first_s)


def retry_call(work: Callable[[], T], *, transient: Callable[[BaseException], bool],
               outage: Outage, pause: Pause, first_s: float = RETRY_DELAY_S_MIN,
               longest_s: float = RETRY_DELAY_S_MAX) -> T:
    """`work()`'s result, calling it again after a pause for as long as it fails with an error
    that `transient` accepts; any other error is raised at once. GaveUp when a pause ends
    early (the work was not done)."""

    def sleep(delay_s: float) -> None:
        if not pause(delay_s):
            raise GaveUp

    def before_sleep(state: tenacity.RetryCallState) -> None:
        assert state.outcome is not None and state.next_action is not None
        error = state.outcome.exception()
        assert error is not None
        outage.failed(error, state.next_action.sleep)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(transient), wait=backoff(first_s, longest_s),
        sleep=sleep, before_sleep=before_sleep, reraise=True)
    result = retrying(work)
    outage.over()
    return result
