"""Standing by for the ledger's consumer lock, without a database or a broker: the wait says
each change of state once, waits out a database outage, ends on a stop, and a worker whose lock
went to another learns it (but not during an outage, when nobody can tell)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from ledger.infra.db.locks import ConsumerLockLost
from ledger.runtime import stopping
from ledger.runtime.stopping import StopRequest
from ledger.worker import standby
from ledger.worker.standby import still_holding, wait_for_the_lock

OUTAGE = OperationalError("SELECT 1", {}, ConnectionRefusedError("the database is down"))


class FakeLock:
    """Answers try_acquire() from a script: True, False, or an error to raise."""

    def __init__(self, answers: list[bool | Exception]) -> None:
        self.answers: Iterator[bool | Exception] = iter(answers)
        self.asked = 0

    def try_acquire(self) -> bool:
        self.asked += 1
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standby, "STANDBY_POLL_S", 0.001)


def test_a_worker_stands_by_until_the_lock_is_free_and_says_each_change_once(
        caplog: pytest.LogCaptureFixture) -> None:
    lock = FakeLock([False, False, OUTAGE, OUTAGE, False, True])
    caplog.set_level(logging.WARNING, logger=standby.log.name)

    assert wait_for_the_lock(lock, StopRequest())

    assert lock.asked == 6
    assert [record.getMessage() for record in caplog.records] == [
        "another consumer holds the ledger; standing by",
        "the database is unavailable (OperationalError); waiting for it before consuming",
        "another consumer holds the ledger; standing by",
        "this consumer holds the ledger now",
    ]


def test_a_stop_ends_the_standby_without_the_lock() -> None:
    stop = StopRequest()
    lock = FakeLock([False] * 1000)
    threading.Timer(0.05, stop.request).start()

    assert not wait_for_the_lock(lock, stop)


def test_an_error_that_is_not_an_outage_is_raised() -> None:
    with pytest.raises(RuntimeError):
        wait_for_the_lock(FakeLock([RuntimeError("a bug")]), StopRequest())


def test_a_worker_whose_lock_went_to_another_learns_it_unless_the_database_is_down() -> None:
    still_holding(FakeLock([True]))
    still_holding(FakeLock([OUTAGE]))
    with pytest.raises(ConsumerLockLost):
        still_holding(FakeLock([False]))


def test_a_wait_ends_early_on_a_stop_or_when_its_work_is_given_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping, "STOP_POLL_S", 0.01)
    stop, give_up = StopRequest(), threading.Event()
    assert stop.wait(0.02, give_up)

    give_up.set()
    assert not stop.wait(10.0, give_up)

    stop.request()
    assert not stop.sleep(10.0)
