"""The worker's append thread: batches appended in the order handed over, nothing appended
after a failure until the broker thread has dealt with it, and nothing running once abandoned."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ledger.worker.appending import AppendLine, Finished

WAIT_S = 10.0


class Appends:
    """Records the order jobs run in; a job can be made to fail or to wait for a gate."""

    def __init__(self) -> None:
        self.ran: list[int] = []
        self.failing: set[int] = set()
        self.gates: dict[int, threading.Event] = {}
        self.started: dict[int, threading.Event] = {}

    def __call__(self, job: int) -> str:
        self.started.setdefault(job, threading.Event()).set()
        if job in self.gates:
            assert self.gates[job].wait(WAIT_S)
        self.ran.append(job)
        if job in self.failing:
            raise RuntimeError(f"job {job} failed")
        return f"appended {job}"


@pytest.fixture
def appends() -> Appends:
    return Appends()


@pytest.fixture
def thread(appends: Appends) -> Iterator[AppendLine[int, str]]:
    appender = AppendLine[int, str](appends, "test-append")
    appender.start()
    yield appender
    for gate in appends.gates.values():
        gate.set()
    appender.close()


def _collect(appender: AppendLine[int, str], count: int) -> list[Finished[int, str]]:
    finished: list[Finished[int, str]] = []
    deadline = time.monotonic() + WAIT_S
    while len(finished) < count and time.monotonic() < deadline:
        finished.extend(appender.finished())
        time.sleep(0.01)
    return finished


def _waker() -> tuple[Callable[[], None], list[int]]:
    woken: list[int] = []
    return lambda: woken.append(1), woken


def test_jobs_finish_in_the_order_handed_over_and_each_wakes_the_caller(
        thread: AppendLine[int, str], appends: Appends) -> None:
    wake, woken = _waker()
    for job in range(20):
        thread.hand_over(job, wake)

    finished = _collect(thread, 20)

    assert [item.job for item in finished] == list(range(20))
    assert [item.result for item in finished] == [f"appended {job}" for job in range(20)]
    assert appends.ran == list(range(20))
    assert len(woken) == 20


def test_after_a_failure_no_later_job_runs_until_the_rest_is_abandoned(
        thread: AppendLine[int, str], appends: Appends) -> None:
    wake, _ = _waker()
    appends.failing.add(1)
    for job in range(4):
        thread.hand_over(job, wake)

    finished = _collect(thread, 2)
    time.sleep(0.2)  # time enough for job 2 to run, were the thread to go on

    assert [item.job for item in finished] == [0, 1]
    assert isinstance(finished[1].error, RuntimeError)
    assert appends.ran == [0, 1]

    thread.abandon()
    thread.hand_over(9, wake)
    assert [item.job for item in _collect(thread, 1)] == [9]
    assert appends.ran == [0, 1, 9]


def test_abandon_waits_for_the_running_job_and_drops_the_ones_not_begun(
        thread: AppendLine[int, str], appends: Appends) -> None:
    wake, _ = _waker()
    appends.gates[0] = threading.Event()
    for job in range(3):
        thread.hand_over(job, wake)
    assert appends.started.setdefault(0, threading.Event()).wait(WAIT_S)

    abandoning = threading.Thread(target=thread.abandon)
    abandoning.start()
    time.sleep(0.2)
    assert abandoning.is_alive(), "abandon returned while a job was still running"

    appends.gates[0].set()
    abandoning.join(WAIT_S)
    assert not abandoning.is_alive()
    assert appends.ran == [0]
    assert thread.finished() == []  # its result went with the channel it was for


def test_close_ends_the_thread(appends: Appends) -> None:
    appender = AppendLine[int, str](appends, "test-append-close")
    appender.start()
    wake, _ = _waker()
    appender.hand_over(1, wake)
    assert [item.job for item in _collect(appender, 1)] == [1]
    assert any(running.name.startswith("test-append-close") for running in threading.enumerate())
    appender.close()
    assert not any(running.name.startswith("test-append-close")
                   for running in threading.enumerate())
