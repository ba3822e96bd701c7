"""retry_call: what a loop waiting out an outage relies on: the work done once it succeeds, a
fault that is not transient raised at once, a stop honoured between attempts, pauses that grow
to their cap, and the outage said twice (as it begins, as it ends), however long it lasts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from ledger.runtime.retry import GaveUp, Outage, pause_until, retry_call

log = logging.getLogger("tests.retry")


class Flaky:
    """Fails with `error` the first `failures` calls, then answers `result`."""

    def __init__(self, failures: int, error: Exception | None = None,
                 result: str = "done") -> None:
        self.failures = failures
        self.error = error or ConnectionError("down")
        self.result = result
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.result


def recording_pause(pauses: list[float], answer: bool = True) -> Callable[[float], bool]:
    def pause(delay_s: float) -> bool:
        pauses.append(delay_s)
        return answer
    return pause


def outage() -> Outage:
    return Outage(log, "the thing is down (%s)", "the thing is back after %.1f s")


def transient(error: BaseException) -> bool:
    return isinstance(error, ConnectionError)


def test_the_work_is_retried_until_it_succeeds_with_pauses_growing_to_their_cap() -> None:
    work, pauses = Flaky(8), []

    result = retry_call(work, transient=transient, outage=outage(),
                        pause=recording_pause(pauses), first_s=0.5, longest_s=4.0)

    assert result == "done"
    assert work.calls == 9
    assert len(pauses) == 8
    assert all(0.5 <= delay <= 4.0 for delay in pauses)
    # Doubling from 0.5 s, with at most 0.5 s of jitter, until the cap.
    assert pauses[0] <= 1.0 and pauses[1] >= 1.0 and pauses[2] >= 2.0
    assert pauses[-3:] == [4.0, 4.0, 4.0]


def test_jitter_spreads_the_pauses_of_processes_retrying_together() -> None:
    firsts = []
    for _ in range(20):
        pauses: list[float] = []
        retry_call(Flaky(1), transient=transient, outage=outage(),
                   pause=recording_pause(pauses), first_s=1.0, longest_s=30.0)
        firsts.append(pauses[0])

    assert len(set(firsts)) > 1
    assert all(1.0 <= delay <= 2.0 for delay in firsts)


def test_a_fault_that_is_not_transient_is_raised_at_once() -> None:
    work, pauses = Flaky(1, ValueError("a poison message")), []

    with pytest.raises(ValueError, match="poison"):
        retry_call(work, transient=transient, outage=outage(), pause=recording_pause(pauses))

    assert work.calls == 1
    assert pauses == []


def test_a_pause_cut_short_gives_the_work_up_without_another_attempt() -> None:
    work = Flaky(5)
    stop = threading.Event()
    stop.set()

    with pytest.raises(GaveUp):
        retry_call(work, transient=transient, outage=outage(), pause=pause_until(stop))

    assert work.calls == 1


def test_an_outage_is_said_once_as_it_begins_and_once_as_it_ends(
        caplog: pytest.LogCaptureFixture) -> None:
    watched = outage()
    caplog.set_level(logging.INFO, logger=log.name)

    retry_call(Flaky(6), transient=transient, outage=watched, pause=recording_pause([]))
    retry_call(Flaky(0), transient=transient, outage=watched, pause=recording_pause([]))

    said = [record.getMessage() for record in caplog.records]
    assert said[0] == "the thing is down (ConnectionError)"
    assert said[1].startswith("the thing is back after ")
    assert len(said) == 2
    assert not watched.ongoing


def test_an_outage_spans_calls_until_one_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    watched = outage()
    caplog.set_level(logging.INFO, logger=log.name)

    for _ in range(3):
        with pytest.raises(GaveUp):
            retry_call(Flaky(1), transient=transient, outage=watched,
                       pause=recording_pause([], answer=False))
    assert watched.ongoing
    retry_call(Flaky(0), transient=transient, outage=watched, pause=recording_pause([]))

    said = [record.getMessage() for record in caplog.records]
    assert said[0] == "the thing is down (ConnectionError)"
    assert said[1].startswith("the thing is back after ")
    assert len(said) == 2
