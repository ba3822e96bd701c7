"""The receipt collector running: beside a running adapter's pump, through an outage of the
ledger's API (said once, stopped promptly), against a token the ledger refuses, and never
following a redirect with the token (SPEC §14)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import adapters.lijiayuan as lijiayuan
from adapters.base.adapter import AdapterProcess
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PendingEvent
from adapters.base.pump import OutboxPump
from adapters.base.transport import DirectTransport
from adapters.lijiayuan.simulator import native_record
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW
from tests.adapters.fake_ledger_api import FakeLedger, serving
from tests.adapters.receipts_support import (
    PLATFORM,
    PUBLISHED_AT,
    collector_of,
    publish,
    receipts_status,
)
from tests.support import TEST_PEPPER

COLLECTOR_LOG = "adapters.base.receipt_collector"
DEADLINE_S = 15.0


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", PLATFORM, clock=lambda: PUBLISHED_AT)
    yield box
    box.close()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger(PLATFORM)


@pytest.fixture
def api_url(ledger: FakeLedger) -> Iterator[str]:
    with serving(ledger) as url:
        yield url


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == COLLECTOR_LOG and record.levelno >= logging.ERROR]


def test_the_collector_waits_out_an_outage_of_the_ledger_api_says_so_once_and_stops_promptly(
        outbox: Outbox, ledger: FakeLedger, api_url: str, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    (event,) = publish(outbox, resident_id, 1)
    ledger.record(event.event_id, event.body)
    ledger.sign_checkpoint()
    ledger.unavailable = True
    collector = collector_of(outbox, ledger, api_url)
    caplog.set_level(logging.DEBUG, logger=COLLECTOR_LOG)
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(ledger.asked) < 3:
            assert time.monotonic() < deadline, "the collector stopped asking"
            time.sleep(0.05)
        ledger.unavailable = False
        while receipts_status(outbox)["proven"] < 1:
            assert time.monotonic() < deadline, "no receipt after the outage"
            time.sleep(0.05)
    finally:
        stop.set()
        stopping = time.monotonic()
        thread.join(DEADLINE_S)
    assert not thread.is_alive()
    assert time.monotonic() - stopping < 1.0

    said = [record.getMessage() for record in caplog.records
            if record.name == COLLECTOR_LOG and record.levelno >= logging.WARNING]
    assert len(said) == 2, said
    assert said[0].startswith("receipts: the ledger API answered 503")
    assert said[1].startswith("receipts: collecting again after ")


def test_a_refused_token_is_said_once_and_ends_the_asking(
        outbox: Outbox, ledger: FakeLedger, api_url: str, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    publish(outbox, resident_id, 2)
    collector = collector_of(outbox, ledger, api_url, token="plt_someone-elses")
    thread = threading.Thread(target=collector.run, args=(threading.Event(),))
    thread.start()
    thread.join(DEADLINE_S)

    assert not thread.is_alive()
    assert len(ledger.asked) == 1
    (line,) = errors(caplog)
    assert "the ledger API answered 401" in line
    assert "until the adapter is restarted" in line
    assert "plt_someone-elses" not in caplog.text


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(
        outbox: Outbox, ledger: FakeLedger, api_url: str, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    collector = collector_of(outbox, ledger, api_url)
    elsewhere = FakeLedger(PLATFORM)
    with serving(elsewhere) as elsewhere_url:
        publish(outbox, resident_id, 1)
        ledger.redirect_to = elsewhere_url

        assert collector.collect() == 0

    assert elsewhere.asked == []
    (line,) = errors(caplog)
    assert "the ledger answered 302" in line


class RecordsThenWait:
    """A source that hands over its records once, then waits for the stop."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._records = records

    def run(self, intake: Intake, stop: threading.Event, notify: Callable[[], None]) -> None:
        intake.accept(lijiayuan.native_records(lijiayuan.payload(self._records), "test"))
        notify()
        stop.wait()


def test_a_running_adapter_collects_receipts_beside_publishing(
        outbox: Outbox, ledger: FakeLedger, api_url: str, resident_id: str) -> None:
    def deliver(events: Sequence[PendingEvent]) -> None:  # the ledger records, and signs
        for event in events:
            ledger.record(event.event_id, event.body)
        ledger.sign_checkpoint()

    records = [native_record(f"R{number}", resident_id, "LJFL", 2, NOW - timedelta(days=1))
               for number in range(1, 6)]
    intake = Intake(lijiayuan.Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()),
                    TEST_PEPPER, clock=lambda: NOW)
    process = AdapterProcess(RecordsThenWait(records), intake,
                             OutboxPump(outbox.events, DirectTransport(deliver)),
                             [collector_of(outbox, ledger, api_url, round_interval_s=0.1).run])
    thread = threading.Thread(target=process.run, kwargs={"install_signal_handlers": False})
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while receipts_status(outbox)["proven"] < len(records):
            assert time.monotonic() < deadline, "the running adapter kept no receipts"
            time.sleep(0.05)
    finally:
        process.stop_event.set()
        thread.join(DEADLINE_S)
    assert not thread.is_alive()
    assert receipts_status(outbox)["unproven"] == 0
