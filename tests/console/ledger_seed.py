"""A small ledger for the auditor's and the platform operator's pages: two platforms, events
recorded through the ingestor with a gap, and a few rejections (one carrying an ID number)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from ledger.bootstrap import Ledger
from ledger.contract.resident_id import check_character
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Status
from ledger.service import registry
from tests.console.support import PLATFORM
from tests.support import RESIDENT_B, PlatformFixture, register_platform

FIRST_SEVENTEEN = "33010919800101123"
ID_NUMBER = FIRST_SEVENTEEN + check_character(FIRST_SEVENTEEN)
MASKED = f"{ID_NUMBER[:6]}********{ID_NUMBER[14:]}"
NEIGHBOUR = "wuhe"
NEIGHBOUR_NAME = "五和众联"


@dataclass(frozen=True)
class Seeded:
    own: PlatformFixture  # lijiayuan, the operator's
    neighbour: PlatformFixture
    # The SHA-256 of the refused body carrying an ID number, as it arrived.
    id_number_body_sha256: str


def keyed(ledger: Ledger, code: str = PLATFORM) -> PlatformFixture:
    """A signing key for a platform already registered (add_people registers lijiayuan)."""
    with ledger.sessions.begin() as session:
        private_key, registered = registry.generate_key(session, code, datetime.now(UTC))
    return PlatformFixture(code, private_key, registered.key_id, EventSigner(private_key))


def seed(ledger: Ledger) -> Seeded:
    """lijiayuan: seqs 1, 2, 3 and 6 recorded (4-5 a gap), two rejections; wuhe: seqs 1 and 2
    recorded (one for resident B), one rejection."""
    own = keyed(ledger)
    neighbour = register_platform(ledger.sessions, NEIGHBOUR, NEIGHBOUR_NAME, "五和镇")
    with_id_number = own.delivery(seq=7, memo=f"核对 {ID_NUMBER}")
    outcomes = ledger.ingestor.ingest([
        own.delivery(seq=1), own.delivery(seq=2, points=20),
        own.delivery(seq=3, type="points.deducted", points=5, category="environment_hygiene"),
        own.delivery(seq=6, category="volunteering"),
        with_id_number,
        own.delivery(seq=8, points=0),
        neighbour.delivery(seq=1, points=30), neighbour.delivery(seq=2, resident=RESIDENT_B),
        neighbour.delivery(seq=3, points=-1),
    ])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 4 + [
        Status.REJECTED] * 2 + [Status.RECORDED] * 2 + [Status.REJECTED]
    return Seeded(own, neighbour, hashlib.sha256(with_id_number.body).hexdigest())


def tamper(connection: Connection, statement: str) -> None:
    """Change ledger_entries as only someone with full access to the database could (the way
    tests/ledger/test_append_only.py does)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(text("DROP TRIGGER ledger_entries_no_update"))
    connection.execute(text(statement))
