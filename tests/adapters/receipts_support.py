"""What the tests of an adapter's receipts share: events published into an outbox, a collector
asking the fake ledger's API (tests/adapters/fake_ledger_api.py), and a clock the test moves."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import adapters.lijiayuan as lijiayuan
from adapters.base.intake import Intake
from adapters.base.ledger_api import LedgerApi
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PendingEvent
from adapters.base.receipt_collector import ROUND_INTERVAL_S, ReceiptCollector
from adapters.lijiayuan.simulator import native_record
from ledger.contract.note_keys import Verifier
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW
from tests.adapters.fake_ledger_api import TOKEN, FakeLedger
from tests.support import TEST_PEPPER

PLATFORM = lijiayuan.PLATFORM
PUBLISHED_AT = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
ASK_INTERVAL_S = 30.0


class Monotonic:
    """The collector's sense of elapsed time, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def collector_of(outbox: Outbox, ledger: FakeLedger, api_url: str,
                 monotonic: Monotonic | None = None, token: str = TOKEN,
                 round_interval_s: float = ROUND_INTERVAL_S) -> ReceiptCollector:
    outbox.receipts.set_collecting(True)
    return ReceiptCollector(PLATFORM, outbox.receipts, LedgerApi(api_url, token),
                            Verifier.from_vkey(ledger.vkey), ask_interval_s=ASK_INTERVAL_S,
                            round_interval_s=round_interval_s, clock=lambda: NOW,
                            monotonic=monotonic or time.monotonic)


def publish(outbox: Outbox, resident_id: str, count: int, first: int = 1
            ) -> list[PendingEvent]:
    """`count` events signed into the outbox and confirmed by the broker."""
    intake = Intake(lijiayuan.Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()),
                    TEST_PEPPER, clock=lambda: NOW)
    records = [native_record(f"R{number}", resident_id, "LJFL", 2, NOW - timedelta(days=1))
               for number in range(first, first + count)]
    intake.accept(lijiayuan.native_records(lijiayuan.payload(records), "test"))
    events = outbox.events.pending(1000)
    outbox.events.mark_published(events[-1].seq)
    return events


def receipts_status(outbox: Outbox) -> dict[str, Any]:
    status = outbox.receipts.status()
    assert isinstance(status, dict)
    return status

