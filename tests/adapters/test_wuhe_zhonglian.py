"""五和众联: the adapter contract, plus the poller against a simulated platform."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import adapters.wuhe_zhonglian as wuhe_zhonglian
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.residents import ResidentSeal, SealBroken
from adapters.wuhe_zhonglian.feed import next_cursor
from adapters.wuhe_zhonglian.poller import PollingSource, saved_cursor
from adapters.wuhe_zhonglian.simulator import PlatformServer, native_record
from ledger.contract.categories import EventType
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW, AdapterContract
from tests.support import TEST_PEPPER

DEADLINE_S = 5.0
INTERVAL_S = 0.02


class TestWuheZhonglianContract(AdapterContract):
    adapter = wuhe_zhonglian


# -- helpers -------------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class Running:
    """A PollingSource running in a thread until `stop()`."""

    def __init__(self, url: str, outbox: Outbox, intake: Intake) -> None:
        self.stop_event = threading.Event()
        self.notified = 0
        source = PollingSource(url, INTERVAL_S, outbox)
        self.thread = threading.Thread(target=source.run,
                                       args=(intake, self.stop_event, self._notify), daemon=True)
        self.thread.start()

    def _notify(self) -> None:
        self.notified += 1

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(DEADLINE_S)
        assert not self.thread.is_alive()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", wuhe_zhonglian.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def intake(outbox: Outbox, key_pair_signer: EventSigner) -> Intake:
    return Intake(wuhe_zhonglian.Mapper(), outbox, key_pair_signer, TEST_PEPPER)


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return wuhe_zhonglian.generate(random.Random(3), 25, 0, datetime.now(UTC))


@pytest.fixture
def server(records: list[dict[str, Any]]) -> Iterator[PlatformServer]:
    platform = PlatformServer(records, page_size=10).start()
    yield platform
    platform.stop()


def seqs(outbox: Outbox) -> list[int]:
    return [event.seq for event in outbox.events.pending(10_000)]


# -- the poller ----------------------------------------------------------------------------


def test_every_record_arrives_with_gap_free_seqs(server: PlatformServer, outbox: Outbox,
                                                 intake: Intake) -> None:
    running = Running(server.url, outbox, intake)
    try:
        wait_until(lambda: outbox.status()["last_seq"] == 25)
    finally:
        running.stop()
    assert seqs(outbox) == list(range(1, 26))
    assert outbox.quarantine.records() == []
    assert server.requested[:3] == [None, "10", "20"]
    assert saved_cursor(outbox, intake.seal) == "25"
    assert str(outbox.state.get("cursor")).startswith("sealed:v1:"), \
        "kept sealed, as it may be an ID"
    assert running.notified >= 1


def test_the_cursor_is_remembered_across_a_restart(server: PlatformServer, outbox: Outbox,
                                                   intake: Intake) -> None:
    first = Running(server.url, outbox, intake)
    try:
        wait_until(lambda: outbox.status()["last_seq"] == 25)
    finally:
        first.stop()
    asked_before = len(server.requested)
    later = wuhe_zhonglian.generate(random.Random(4), 30, 0, datetime.now(UTC))[25:]
    server.add(later)
    second = Running(server.url, outbox, intake)
    try:
        wait_until(lambda: outbox.status()["last_seq"] == 30)
    finally:
        second.stop()
    assert server.requested[asked_before] == "25"  # not a first poll from the start
    assert seqs(outbox) == list(range(1, 31))
    assert saved_cursor(outbox, intake.seal) == "30"


def test_a_cursor_an_older_adapter_kept_unsealed_is_still_read(
        server: PlatformServer, outbox: Outbox, intake: Intake) -> None:
    with outbox.transaction() as transaction:
        transaction.state.set("cursor", "20")
    running = Running(server.url, outbox, intake)
    try:
        wait_until(lambda: outbox.status()["last_seq"] == 5)
    finally:
        running.stop()
    assert server.requested[0] == "20"
    assert saved_cursor(outbox, intake.seal) == "25"


def test_a_cursor_sealed_under_another_pepper_does_not_open(outbox: Outbox,
                                                            intake: Intake) -> None:
    with outbox.transaction() as transaction:
        transaction.state.set("cursor",
                              ResidentSeal("another-pepper-0123456789").seal_text("cursor", "9"))
    with pytest.raises(SealBroken):
        saved_cursor(outbox, intake.seal)


def test_a_platform_outage_is_waited_out(server: PlatformServer, outbox: Outbox,
                                         intake: Intake, caplog: pytest.LogCaptureFixture) -> None:
    server.down = True
    caplog.set_level(logging.INFO, logger="adapters.wuhe_zhonglian.poller")
    running = Running(server.url, outbox, intake)
    try:
        wait_until(lambda: len(server.requested) >= 3)  # it kept retrying, with back-off
        assert running.thread.is_alive()
        server.down = False
        wait_until(lambda: outbox.status()["last_seq"] == 25)
    finally:
        running.stop()
    assert seqs(outbox) == list(range(1, 26))
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1  # one warning per outage, not per attempt


def test_a_platform_that_refuses_the_poll_is_an_error_not_an_outage(
        server: PlatformServer, outbox: Outbox, intake: Intake,
        caplog: pytest.LogCaptureFixture) -> None:
    """A wrong URL answers 404 however often it is asked: said once, as an error."""
    caplog.set_level(logging.INFO, logger="adapters.wuhe_zhonglian.poller")
    running = Running(server.url + "/no-such-api", outbox, intake)
    try:
        wait_until(lambda: any(record.levelno == logging.ERROR for record in caplog.records))
        assert running.thread.is_alive()
    finally:
        running.stop()  # promptly, although it waits its longest back-off before asking again
    errors = [record.getMessage() for record in caplog.records
              if record.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "refuses the poll (HTTP 404" in errors[0] and "--url" in errors[0]
    assert outbox.status()["last_seq"] == 0


def test_an_unreachable_platform_never_crashes_the_source(outbox: Outbox,
                                                          intake: Intake) -> None:
    platform = PlatformServer([]).start()
    url = platform.url
    platform.stop()  # nothing listens there any more
    running = Running(url, outbox, intake)
    time.sleep(0.1)
    assert running.thread.is_alive()
    running.stop()
    assert outbox.status()["last_seq"] == 0


def test_a_negative_score_is_a_deduction(outbox: Outbox, intake: Intake,
                                         resident_id: str) -> None:
    day = datetime.now(UTC) - timedelta(days=1)
    platform = PlatformServer([
        native_record(1, resident_id, "patrol", 5, day),
        native_record(2, resident_id, "patrol", 3, day, EventType.DEDUCTED),
    ]).start()
    running = Running(platform.url, outbox, intake)
    try:
        wait_until(lambda: outbox.status()["last_seq"] == 2)
    finally:
        running.stop()
        platform.stop()
    bodies = [event.body for event in outbox.events.pending(10)]
    assert b'"type":"points.awarded"' in bodies[0]
    assert b'"type":"points.deducted"' in bodies[1] and b'"points":3' in bodies[1]


# -- the simulator and the feed ------------------------------------------------------------


def test_generated_bad_records_are_each_quarantined(outbox: Outbox,
                                                    key_pair_signer: EventSigner) -> None:
    intake = Intake(wuhe_zhonglian.Mapper(), outbox, key_pair_signer, TEST_PEPPER,
                    clock=lambda: NOW)
    generated = wuhe_zhonglian.generate(random.Random(5), 40, 4, NOW)
    report = intake.accept(wuhe_zhonglian.native_records(wuhe_zhonglian.payload(generated), "t"))
    assert report.accepted == 40
    assert sorted(item["reason"] for item in report.quarantined) == [
        "bad_date", "bad_id_number", "bad_points", "unknown_category"]


@pytest.mark.parametrize("time_value", [True, 1_700_000_000, 12.5e11, None])
def test_a_time_that_is_not_epoch_milliseconds_is_a_bad_date(
        time_value: object, outbox: Outbox, intake: Intake, resident_id: str) -> None:
    record = native_record("T1", resident_id, "volunteer", 2, NOW)
    record["time"] = time_value
    report = intake.accept(wuhe_zhonglian.native_records(wuhe_zhonglian.payload([record]), "t"))
    expected = "bad_record" if time_value is None else "bad_date"  # missing, not malformed
    assert [item["reason"] for item in report.quarantined] == [expected]


def test_an_unreadable_page_and_the_cursor() -> None:
    (record,) = wuhe_zhonglian.native_records(b"\xff{not json", "page 1")
    assert record.unreadable is not None
    assert next_cursor(b'{"items": [], "next": 42}') == "42"
    assert next_cursor(b'{"items": []}') is None
    assert next_cursor(b'{"items": [], "next": null}') is None
    assert next_cursor(b"<html>") is None


def test_make_source_needs_a_url(outbox: Outbox) -> None:
    @dataclass
    class Options:
        url: str | None
        listen: tuple[str, int] | None = None
        inbox: str | None = None
        interval_s: float = 5.0

    with pytest.raises(ValueError, match="--url BASE"):
        wuhe_zhonglian.make_source(Options(None), outbox)
    source = wuhe_zhonglian.make_source(Options("http://127.0.0.1:1"), outbox)
    assert isinstance(source, PollingSource)
