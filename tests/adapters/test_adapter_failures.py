"""An adapter never keeps running with publishing stopped (SPEC §10, issue 11 item 5): each
thread retries what passes (the outbox locked by another writer) and stops the whole adapter on
anything else, so that `AdapterProcess.run` raises and the command exits non-zero."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

import adapters.lijiayuan as lijiayuan
from adapters.base.adapter import AdapterProcess, Notify
from adapters.base.failures import AdapterFailed, is_transient
from adapters.base.http_source import webhook_app
from adapters.base.intake import Intake
from adapters.base.notices import NoticeListener
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import EventOutbox, PendingEvent
from adapters.base.pump import OutboxPump
from adapters.base.transport import DirectTransport
from adapters.lijiayuan.simulator import native_record
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW

RUN_TIMEOUT_S = 15.0
HANDLER_CALLS_MAX = 5
DAY = NOW - timedelta(days=1)


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.sqlite3"


@pytest.fixture
def outbox(outbox_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{outbox_path}", lijiayuan.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def intake(outbox: Outbox, key_pair_signer: EventSigner) -> Intake:
    return Intake(lijiayuan.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                  clock=lambda: NOW)


def locked_database_error(tmp_path: Path) -> OperationalError:
    """What SQLite really raises when another connection holds the write lock too long."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    except OperationalError as error:
        return error
    finally:
        engine.dispose()
        holder.close()
    raise AssertionError("the database was not locked")


def break_the_outbox(outbox_path: Path) -> None:
    """An outbox the pump cannot read however often it tries (a table gone: no retry helps)."""
    connection = sqlite3.connect(outbox_path, isolation_level=None)
    connection.execute("DROP TABLE outbox_events")
    connection.close()


class Idle:
    """A source that receives nothing until stopped (a webhook source with no traffic)."""

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None:
        stop.wait()


class LockedAtFirst:
    """The outbox's events, except that the first `times` reads fail as a locked database
    does."""

    def __init__(self, events: EventOutbox, error: OperationalError, times: int) -> None:
        self._events = events
        self._error = error
        self.failures_left = times

    def pending(self, limit: int, after_seq: int | None = None) -> list[PendingEvent]:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise self._error
        return self._events.pending(limit, after_seq)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._events, name)


def run_in_thread(process: AdapterProcess) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            process.run(install_signal_handlers=False)
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


def store(intake: Intake, *native_ids: str, resident_id: str) -> None:
    report = intake.accept(lijiayuan.native_records(lijiayuan.payload(
        [native_record(native_id, resident_id, "LJFL", 2, DAY) for native_id in native_ids]),
        "t"))
    assert report.accepted == len(native_ids)


def test_a_locked_database_is_transient_a_missing_table_is_not(
        tmp_path: Path, outbox: Outbox, outbox_path: Path) -> None:
    assert is_transient(locked_database_error(tmp_path))
    break_the_outbox(outbox_path)
    with pytest.raises(OperationalError) as missing:
        outbox.events.pending(10)
    assert not is_transient(missing.value)


def test_a_pump_whose_outbox_fails_for_good_stops_the_adapter(
        outbox: Outbox, outbox_path: Path, intake: Intake, resident_id: str) -> None:
    store(intake, "F1", resident_id=resident_id)
    break_the_outbox(outbox_path)
    process = AdapterProcess(Idle(), intake,
                             OutboxPump(outbox.events, DirectTransport(lambda _: None)))

    thread, raised = run_in_thread(process)
    thread.join(RUN_TIMEOUT_S)

    assert not thread.is_alive(), "the adapter kept running with its pump dead"
    (error,) = raised
    assert isinstance(error, AdapterFailed)
    assert "outbox-pump" in str(error) and "no such table" in str(error)


def test_a_locked_outbox_is_retried_and_publishing_goes_on(
        tmp_path: Path, outbox: Outbox, intake: Intake, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    store(intake, "L1", "L2", resident_id=resident_id)
    published: list[str] = []

    def deliver(events: Sequence[PendingEvent]) -> None:
        published.extend(event.event_id for event in events)

    flaky = LockedAtFirst(outbox.events, locked_database_error(tmp_path), times=2)
    pump = OutboxPump(flaky, DirectTransport(deliver))  # type: ignore[arg-type]
    process = AdapterProcess(Idle(), intake, pump)
    with caplog.at_level(logging.WARNING):
        thread, raised = run_in_thread(process)
        try:
            wait_until(lambda: len(published) == 2)
            store(intake, "L3", resident_id=resident_id)
            pump.wake()
            wait_until(lambda: len(published) == 3)
        finally:
            process.stop_event.set()
            thread.join(RUN_TIMEOUT_S)
    assert raised == [] and flaky.failures_left == 0
    assert outbox.status()["backlog"] == 0
    assert any("the outbox is busy" in record.message for record in caplog.records)


def test_a_failing_background_thread_stops_the_adapter(outbox: Outbox, intake: Intake) -> None:
    def listener(_stop: threading.Event) -> None:
        raise RuntimeError("the notice listener broke")

    process = AdapterProcess(Idle(), intake,
                             OutboxPump(outbox.events, DirectTransport(lambda _: None)),
                             [listener])
    thread, raised = run_in_thread(process)
    thread.join(RUN_TIMEOUT_S)
    assert not thread.is_alive()
    (error,) = raised
    assert isinstance(error, AdapterFailed) and "the notice listener broke" in str(error)


def test_a_notice_the_outbox_cannot_journal_for_good_stops_the_listener(tmp_path: Path) -> None:
    missing_table = OperationalError("INSERT INTO notices", {}, sqlite3.OperationalError(
        "no such table: notices"))
    stop = threading.Event()  # set by the handler if it is asked again and again
    handler = Handler(missing_table, stop=stop)
    listener = NoticeListener("amqp://unused", handler)  # type: ignore[arg-type]
    with pytest.raises(OperationalError):
        listener._deliver(Connection(), Properties(), b"{}", stop)


def test_a_notice_is_held_while_the_outbox_is_locked(tmp_path: Path) -> None:
    handler = Handler(locked_database_error(tmp_path), times=2)
    listener = NoticeListener("amqp://unused", handler)  # type: ignore[arg-type]
    assert listener._deliver(Connection(), Properties(), b"{}", threading.Event())
    assert handler.calls == 3


def test_a_webhook_the_outbox_cannot_store_for_good_answers_503_and_stops_the_adapter(
        outbox: Outbox, outbox_path: Path, intake: Intake, resident_id: str) -> None:
    fatal: list[BaseException] = []
    app = webhook_app(lijiayuan.PLATFORM, "/webhook", lijiayuan.native_records, intake,
                      lambda: None, fatal.append)
    break_the_outbox(outbox_path)
    response = app.test_client().post("/webhook", data=lijiayuan.payload(
        [native_record("W1", resident_id, "LJFL", 2, DAY)]))
    assert response.status_code == 503
    (error,) = fatal
    assert "no such table" in str(error)


# -- fakes for the notice listener -------------------------------------------------------------

class Handler:
    platform = lijiayuan.PLATFORM

    def __init__(self, error: Exception, times: int = 1_000_000,
                 stop: threading.Event | None = None) -> None:
        self._error = error
        self._times = times
        self._stop = stop
        self.calls = 0

    def handle(self, body: bytes, headers: dict[str, str]) -> str:
        self.calls += 1
        if self._stop is not None and self.calls >= HANDLER_CALLS_MAX:
            self._stop.set()
        if self.calls <= self._times:
            raise self._error
        return "delivered"


class Connection:
    def sleep(self, _seconds: float) -> None:
        """The back-off, without waiting (the test is about what is retried)."""


class Properties:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


def wait_until(condition: Callable[[], bool], timeout_s: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
