"""The adapter contract, tested once per adapter (SPEC §10).

Each adapter's test module subclasses AdapterContract and sets `adapter` to its package. Every
native category maps to its canonical category; each quarantine reason is produced and kept;
what lands in the outbox is a signed §4 event the ledger's own verifier accepts; seqs are
gap-free; a repeated record is recognized.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from ledger.contract.categories import EventType
from ledger.contract.resident_id import pseudonym, synthetic_id_number
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import key_id_for, public_key_bytes
from ledger.domain.verification import Delivery, VerifiedEvent, verify_delivery
from ledger.service.keyring import Keyring, RegisteredKey
from tests.support import TEST_PEPPER

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
BAD_ID_NUMBER = "330109199001011230"  # wrong check character


class AdapterContract:
    adapter: ModuleType

    @pytest.fixture
    def key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    @pytest.fixture(params=["sqlite", "postgresql"])
    def outbox(self, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
        """The default SQLite file, and a PostgreSQL schema `adapter_{platform}` (SPEC §10)."""
        url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}" if request.param == "sqlite" \
            else str(request.getfixturevalue("postgres_url"))
        box = Outbox(url, self.adapter.PLATFORM)
        yield box
        box.close()

    @pytest.fixture
    def intake(self, outbox: Outbox, key: Ed25519PrivateKey) -> Intake:
        return Intake(self.adapter.Mapper(), outbox, EventSigner(key), TEST_PEPPER,
                      clock=lambda: NOW)

    @pytest.fixture
    def resident_id(self) -> str:
        return synthetic_id_number(random.Random(7))

    def take(self, intake: Intake, records: list[dict[str, Any]]) -> Any:
        native = self.adapter.native_records(self.adapter.payload(records), "test")
        return intake.accept(native)

    def award(self, native_id: str, id_number: str, category: str | None = None,
              points: object = 5, occurred_at: datetime | str | None = None) -> dict[str, Any]:
        code = category or next(iter(self.adapter.CATEGORIES.codes))
        return dict(self.adapter.native_record(native_id, id_number, code, points,
                                               occurred_at or NOW - timedelta(days=1),
                                               EventType.AWARDED))

    def verified(self, outbox: Outbox, key: Ed25519PrivateKey) -> list[VerifiedEvent]:
        public = public_key_bytes(key)
        keyring = Keyring({self.adapter.PLATFORM: [RegisteredKey(key_id_for(public), public,
                                                                 None)]})
        results = [verify_delivery(Delivery(event.body, event.headers, "amqp"), keyring,
                                   NOW + timedelta(seconds=1), 300)
                   for event in outbox.events.pending(10_000)]
        assert all(isinstance(result, VerifiedEvent) for result in results), results
        return [result for result in results if isinstance(result, VerifiedEvent)]

    # -- the contract ----------------------------------------------------------------------

    def test_every_native_category_maps_to_its_canonical_category(
            self, intake: Intake, outbox: Outbox, key: Ed25519PrivateKey,
            resident_id: str) -> None:
        codes = self.adapter.CATEGORIES.codes
        records = [self.award(f"C{index}", resident_id, code)
                   for index, code in enumerate(codes)]
        report = self.take(intake, records)
        assert report.accepted == len(codes), report.quarantined
        events = self.verified(outbox, key)
        assert [event.envelope.category for event in events] == list(codes.values())

    def test_a_signed_event_the_ledger_accepts(self, intake: Intake, outbox: Outbox,
                                                key: Ed25519PrivateKey, resident_id: str) -> None:
        self.take(intake, [self.award("A1", resident_id, points=7)])
        (event,) = self.verified(outbox, key)
        envelope = event.envelope
        assert envelope.platform == self.adapter.PLATFORM
        assert envelope.type is EventType.AWARDED
        assert envelope.points == 7
        assert envelope.resident == pseudonym(resident_id, TEST_PEPPER)
        assert envelope.source_ref == "A1"
        assert resident_id not in event.delivery.body.decode("utf-8")

    def test_seqs_are_gap_free_and_a_repeated_record_is_recognized(
            self, intake: Intake, outbox: Outbox, key: Ed25519PrivateKey,
            resident_id: str) -> None:
        first = [self.award(f"S{index}", resident_id) for index in range(5)]
        self.take(intake, first)
        report = self.take(intake, [*first[2:], self.award("S5", resident_id)])
        assert (report.accepted, report.duplicates) == (1, 3)
        assert [event.envelope.seq for event in self.verified(outbox, key)] == [1, 2, 3, 4, 5, 6]

    @pytest.mark.parametrize("reason", ["bad_id_number", "unknown_category", "bad_date",
                                        "bad_points"])
    def test_each_quarantine_reason_is_kept_and_never_guessed(
            self, reason: str, intake: Intake, outbox: Outbox, resident_id: str) -> None:
        broken = {
            "bad_id_number": lambda: self.award("Q1", BAD_ID_NUMBER),
            "unknown_category": lambda: self.award("Q1", resident_id, category="NO-SUCH-CODE"),
            "bad_date": lambda: self.award("Q1", resident_id, occurred_at="2026-02-30 25:61"),
            "bad_points": lambda: self.award("Q1", resident_id, points="five"),
        }[reason]()
        report = self.take(intake, [broken, self.award("OK1", resident_id)])
        assert report.accepted == 1
        (kept,) = outbox.quarantine.records()
        assert kept.reason == reason
        assert kept.location.startswith("test")
        assert BAD_ID_NUMBER not in kept.record and resident_id not in kept.record
        assert outbox.status()["last_seq"] == 1

    def test_a_record_reused_with_other_content_is_quarantined(
            self, intake: Intake, outbox: Outbox, resident_id: str) -> None:
        self.take(intake, [self.award("R1", resident_id, points=3)])
        self.take(intake, [self.award("R1", resident_id, points=4)])
        assert [record.reason for record in outbox.quarantine.records()] == [
            "conflicting_duplicate"]
        assert json.loads(json.dumps(outbox.status()))["last_seq"] == 1
