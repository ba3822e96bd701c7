"""SPEC §6: the hash chain, recomputed from its definition alone.

Nothing here calls `ledger.domain.entry`: the document, JCS, the leaf prefix and the genesis hash
are written out from the SPEC, as an auditor with API access would.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.ledger_read import entry_document_with_hash
from tests.ledger.helpers import entries
from tests.support import RESIDENT_B, PlatformFixture

GENESIS = bytes(32)
DOCUMENT_FIELDS = ("seq", "kind", "platform", "event_id", "platform_seq", "resident", "category",
                   "points", "occurred_at", "recorded_at", "revokes", "key_id", "body",
                   "webhook_timestamp", "webhook_signature")


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z` (SPEC §7), fractions only when there are any."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def document_of(row: LedgerEntryRow) -> dict[str, Any]:
    """The entry as GET /ledger/entries shows it, without entry_hash; absent fields are null."""
    document: dict[str, Any] = {}
    for name in DOCUMENT_FIELDS:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = utc_text(value)
        if value is not None:
            document[name] = value
    return document


def recompute(documents: list[dict[str, Any]]) -> list[str]:
    previous, hashes = GENESIS, []
    for document in documents:
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(document)).digest()
        previous = hashlib.sha256(previous + leaf).digest()
        hashes.append(previous.hex())
    return hashes


def fill(ledger: Ledger, platform: PlatformFixture, other: PlatformFixture) -> None:
    outcomes = ledger.ingestor.ingest([
        platform.delivery(points=12, memo="垃圾分类 • 每周检查 \"好\"", source_ref="JFJL-0001"),
        platform.delivery(type="points.deducted", points=3, category="environment_hygiene",
                          occurred_at="2026-11-02T07:15:30.123456789+08:00"),
        other.delivery(resident=RESIDENT_B, points=100_000, category="volunteering",
                       occurred_at="2026-10-31T23:59:59.5-04:00"),
    ])
    outcomes += ledger.ingestor.ingest([
        platform.delivery(type="points.revoked", revokes="lijiayuan-1", points=12),
    ])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 4


def test_stored_entry_hashes_follow_from_the_documents(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    fill(ledger, platform, other_platform)
    rows = entries(ledger)
    assert [row.seq for row in rows] == [1, 2, 3, 4]
    assert recompute([document_of(row) for row in rows]) == [row.entry_hash for row in rows]


def test_the_hashed_document_is_the_one_the_api_shows(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    fill(ledger, platform, other_platform)
    for row in entries(ledger):
        shown = entry_document_with_hash(row)
        assert shown.pop("entry_hash") == row.entry_hash
        assert shown == document_of(row)
    deduction = document_of(entries(ledger)[1])
    assert deduction["occurred_at"] == "2026-11-01T23:15:30.123456Z"
    assert deduction["points"] == -3 and deduction["kind"] == "points.deducted"
    assert "revokes" not in deduction


def test_each_entry_can_be_reverified_from_its_document_alone(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    """The exact body and the signature headers are kept: the platform's signature still holds."""
    fill(ledger, platform, other_platform)
    public_keys = {
        fixture.code: Ed25519PublicKey.from_public_bytes(
            fixture.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        for fixture in (platform, other_platform)
    }
    for row in entries(ledger):
        document = document_of(row)
        signed = (f"{document['event_id']}.{document['webhook_timestamp']}."
                  f"{document['body']}").encode()
        scheme, encoded = document["webhook_signature"].split(",", 1)
        assert scheme == "v1a"
        public_keys[document["platform"]].verify(base64.b64decode(encoded), signed)


def test_the_chain_continues_across_batches_from_the_stored_head(
        ledger: Ledger, platform: PlatformFixture) -> None:
    for points in (1, 2, 3):
        assert ledger.ingestor.ingest([platform.delivery(points=points)])[0].seq == points
    rows = entries(ledger)
    assert recompute([document_of(row) for row in rows]) == [row.entry_hash for row in rows]


def test_the_largest_accepted_platform_seq_can_be_hashed(
        ledger: Ledger, platform: PlatformFixture) -> None:
    """JCS (RFC 8785) represents integers exactly only below 2^53: a larger seq is refused at
    the door rather than accepted and then impossible to hash."""
    largest = 2**53 - 1
    outcomes = ledger.ingestor.ingest([platform.delivery(seq=largest),
                                       platform.delivery(seq=largest + 1)])
    assert outcomes[0].status is Status.RECORDED
    assert outcomes[1].reason is not None and outcomes[1].reason.value == "schema_invalid"
    assert outcomes[1].errors == {"seq": f"must be between 1 and {largest}"}
    rows = entries(ledger)
    assert recompute([document_of(row) for row in rows]) == [row.entry_hash for row in rows]
