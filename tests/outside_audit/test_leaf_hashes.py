"""The auditor hashes an entry as served exactly as the ledger hashed it when appending
(SPEC §6, §14), without the ledger's own code: its leaf equals the domain's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ledger.contract.canonical_json import JSON_SAFE_INTEGER_MAX
from ledger.domain.audit import AuditRecord
from ledger.domain.entry import LedgerEntry, entry_leaf_hash, leaf_hash
from ledger.outside_audit.entries import leaf_hash_of

RECORDED = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)


def served(document: dict[str, object]) -> dict[str, object]:
    """As `GET /ledger/entries` serves it: the document plus its entry_hash."""
    return {**document, "entry_hash": "ab" * 32}


def test_a_platform_events_leaf_is_the_ledgers() -> None:
    entry = LedgerEntry(
        seq=41, kind="points.revoked", platform="nanyang_young", resident="f" * 64, points=-12,
        occurred_at=datetime(2026, 2, 28, 23, 0, tzinfo=timezone(timedelta(hours=8))),
        recorded_at=RECORDED, event_id="ny:2026/0001", platform_seq=9, category="honors",
        revokes="ny:2025/0999", key_id="key_0123456789abcdef",
        body='{"memo":"门前三包 \\"周检\\"\\n","points":12}', webhook_timestamp=1_772_000_000,
        webhook_signature="v1a,AAAA v1a,BBBB")
    assert leaf_hash_of(served(entry.document())) == entry_leaf_hash(entry)


def test_a_redemptions_leaf_is_the_ledgers() -> None:
    entry = LedgerEntry(seq=7, kind="points.redeemed", platform="lijiayuan", resident="0" * 64,
                        points=-300, occurred_at=RECORDED, recorded_at=RECORDED,
                        redemption_id="r-1", branch="0101")
    assert leaf_hash_of(served(entry.document())) == entry_leaf_hash(entry)


def test_an_audit_events_leaf_is_the_ledgers() -> None:
    record = AuditRecord(seq=3, at=RECORDED, actor="risk-1", action="ruleset.approved",
                         subject="ruleset:3", comment="ok", document_sha256="c" * 64,
                         details={"changes": [{"field": "ratio", "from": 1.5, "to": 2}],
                                  "note": "季度"})
    assert leaf_hash_of(served(record.document())) == leaf_hash(record.document())


@given(body=texts, resident=texts, event_id=texts,
       points=st.integers(-JSON_SAFE_INTEGER_MAX, JSON_SAFE_INTEGER_MAX))
def test_any_entry_hashes_alike(body: str, resident: str, event_id: str, points: int) -> None:
    entry = LedgerEntry(seq=1, kind="points.awarded", platform="p", resident=resident,
                        points=points, occurred_at=RECORDED, recorded_at=RECORDED,
                        event_id=event_id, body=body, webhook_timestamp=0,
                        webhook_signature="v1a,x")
    assert leaf_hash_of(served(entry.document())) == entry_leaf_hash(entry)
