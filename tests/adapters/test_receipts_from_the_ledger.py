"""Receipts from the ledger itself (SPEC §14): an adapter's events delivered to the real ledger,
its checkpoints signed, and the adapter's collector asking the real API with a platform
operator's token — every event proven included, each receipt verifying against the ledger's
log key alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import adapters.lijiayuan as lijiayuan
from adapters.base.intake import Intake
from adapters.base.ledger_api import LedgerApi
from adapters.base.outbox.database import Outbox
from adapters.base.receipt_collector import ReceiptCollector
from adapters.lijiayuan.simulator import native_record
from ledger.bootstrap import Ledger
from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.merkle import verify_inclusion
from ledger.contract.note_keys import Verifier
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Status
from ledger.domain.verification import Delivery
from tests.adapters.contract import NOW
from tests.api.log_support import sign_checkpoints, vkey
from tests.api.support import create_tokens
from tests.console.support import live_server
from tests.support import TEST_PEPPER, PlatformFixture

RESIDENT_ID = "11010519491231002X"


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", lijiayuan.PLATFORM)
    yield box
    box.close()


def published(outbox: Outbox, platform: PlatformFixture, count: int) -> list[Delivery]:
    """`count` native records signed with the platform's registered key, published."""
    intake = Intake(lijiayuan.Mapper(), outbox, EventSigner(platform.private_key), TEST_PEPPER,
                    clock=lambda: NOW)
    first = outbox.events.last_seq() + 1
    records = [native_record(f"R{number}", RESIDENT_ID, "LJFL", 2, NOW - timedelta(days=1))
               for number in range(first, first + count)]
    intake.accept(lijiayuan.native_records(lijiayuan.payload(records), "test"))
    events = outbox.events.pending(1000, after_seq=first - 1)
    outbox.events.mark_published(events[-1].seq)
    return [Delivery(event.body, event.headers, "amqp") for event in events]


def test_every_event_the_ledger_recorded_gets_a_receipt_that_verifies(
        ledger: Ledger, platform: PlatformFixture, outbox: Outbox) -> None:
    assert platform.code == lijiayuan.PLATFORM
    operator = create_tokens(ledger.sessions, operated_platform=platform.code).by_role[
        "platform_operator"]
    outcomes = ledger.ingestor.ingest(published(outbox, platform, 4))
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 4
    moments = iter(range(0, 10**6, 3600))  # an hour between rounds: every event asked again

    def elapsed() -> float:
        return float(next(moments))

    with live_server(ledger) as server:
        outbox.receipts.set_collecting(True)
        collector = ReceiptCollector(platform.code, outbox.receipts,
                                     LedgerApi(server.url, operator),
                                     Verifier.from_vkey(vkey(ledger)), clock=ledger.clock,
                                     monotonic=elapsed)
        collector.collect()
        status = outbox.receipts.status()
        assert status["proven"] == 0 and status["unproven"] == 4  # no checkpoint yet

        sign_checkpoints(ledger)
        collector.collect()
        status = outbox.receipts.status()
        assert (status["proven"], status["unproven"], status["oldest_unproven"]) == (4, 0, None)

        # More events, a later checkpoint: proven too, the checkpoints consistent.
        ledger.ingestor.ingest(published(outbox, platform, 2))
        sign_checkpoints(ledger)
        collector.collect()
        status = outbox.receipts.status()
    assert (status["proven"], status["inconsistent"]) == (6, None)
    assert status["latest_checkpoint_size"] == 6
    ledger_vkey = Verifier.from_vkey(vkey(ledger))
    for outbox_seq in range(1, 7):
        receipt = outbox.receipts.receipt(outbox_seq)
        assert receipt is not None
        checkpoint, _ = open_checkpoint(receipt.checkpoint, ledger.settings.log_origin,
                                        ledger_vkey)
        verify_inclusion(receipt.ledger_seq - 1, receipt.tree_size, receipt.leaf_hash,
                         list(receipt.proof_hashes), checkpoint.root_hash)
    # The first four were proven in the first checkpoint that held them.
    assert outbox.receipts.receipt(1).tree_size == 4  # type: ignore[union-attr]
