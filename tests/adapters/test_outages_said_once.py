"""An adapter waiting out an outage says so once as it begins and once as it ends, however
many attempts it takes (ledger.runtime.retry): the pump while the broker is away, the notice
listener while the platform cannot take a notice."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

import adapters.lijiayuan as lijiayuan
from adapters.base.intake import Intake
from adapters.base.notices import NoticeListener, SinkUnavailable
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PendingEvent
from adapters.base.pump import OutboxPump
from adapters.base.transport import DirectTransport, TransportUnavailable
from adapters.lijiayuan.simulator import native_record
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW

FAILURES = 2
DEADLINE_S = 15.0


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", lijiayuan.PLATFORM)
    yield box
    box.close()


class BrokerAwayAtFirst:
    """Refuses the first `failures` deliveries as a broker that is away, then takes them."""

    def __init__(self, failures: int) -> None:
        self.failures_left = failures
        self.taken: list[str] = []

    def __call__(self, events: Sequence[PendingEvent]) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise TransportUnavailable("the broker is away")
        self.taken.extend(event.event_id for event in events)


def said(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == logger and record.levelno >= logging.WARNING]


def test_the_pump_says_once_that_it_cannot_publish_and_once_that_it_publishes_again(
        outbox: Outbox, key_pair_signer: EventSigner, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    intake = Intake(lijiayuan.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                    clock=lambda: NOW)
    intake.accept(lijiayuan.native_records(lijiayuan.payload(
        [native_record("L1", resident_id, "LJFL", 2, NOW - timedelta(days=1))]), "t"))
    broker = BrokerAwayAtFirst(FAILURES)
    pump = OutboxPump(outbox.events, DirectTransport(broker))
    caplog.set_level(logging.DEBUG, logger="adapters.base.pump")

    thread = threading.Thread(target=pump.run)
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not broker.taken:
            assert time.monotonic() < deadline, "the pump did not publish"
            time.sleep(0.05)
    finally:
        pump.stop()
        thread.join(DEADLINE_S)

    lines = said(caplog, "adapters.base.pump")
    assert len(lines) == 2
    assert lines[0].startswith("cannot publish (the broker is away)")
    assert lines[1].startswith("publishing again after ")
    assert outbox.status()["backlog"] == 0


class PlatformAwayAtFirst:
    platform = lijiayuan.PLATFORM

    def __init__(self, failures: int) -> None:
        self.failures_left = failures

    def handle(self, body: bytes, headers: dict[str, str]) -> str:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise SinkUnavailable("the platform answered 503")
        return "delivered"


class Connection:
    def sleep(self, _seconds: float) -> None:
        """The pause is spent here in a real listener (heartbeats); here it passes."""


class Properties:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


def test_a_notice_held_is_said_once_as_it_is_held_and_once_as_it_is_handled(
        caplog: pytest.LogCaptureFixture) -> None:
    handler = PlatformAwayAtFirst(FAILURES)
    listener = NoticeListener("amqp://unused", handler)  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG, logger="adapters.base.notices")

    assert listener._deliver(Connection(), Properties(), b"{}",  # type: ignore[arg-type]
                             threading.Event())

    lines = said(caplog, "adapters.base.notices")
    assert len(lines) == 2
    assert lines[0] == "notice held: the platform answered 503; retrying with back-off"
    assert lines[1].startswith("the notice held was handled after ")
    assert handler.failures_left == 0
