"""A key vouches for an entry as it was when the ledger recorded it (SPEC §3, §4.3): the edges
of the rules, checked on values alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.outside_audit.documents import KeyRecord
from ledger.outside_audit.event_signatures import (
    SIGNED_FIELDS,
    key_refusal,
    needs_signature,
    signed_fields,
)

ADDED = datetime(2026, 1, 1, tzinfo=UTC)
RECORDED = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def key(revoked_at: datetime | None = None, compromised_at: datetime | None = None,
        added_at: datetime = ADDED) -> KeyRecord:
    return KeyRecord("key_1", "lijiayuan", bytes(32), added_at, revoked_at, compromised_at)


def test_a_key_vouches_from_the_moment_it_was_added() -> None:
    assert key_refusal(key(added_at=RECORDED), RECORDED, RECORDED) is None
    refusal = key_refusal(key(added_at=RECORDED + SECOND), RECORDED, RECORDED)
    assert refusal is not None and "was added at 2026-02-01T12:00:01Z, after" in refusal


def test_a_compromised_key_vouches_for_nothing_recorded_from_its_declaration_on() -> None:
    declared = RECORDED
    assert key_refusal(key(declared, declared + SECOND), RECORDED, RECORDED - SECOND) is None
    refusal = key_refusal(key(declared, declared), RECORDED, RECORDED - 3600 * SECOND)
    assert refusal is not None and "declared compromised" in refusal


def test_a_retired_key_vouches_for_signatures_made_before_its_retirement() -> None:
    retired = RECORDED - 10 * SECOND
    assert key_refusal(key(retired), RECORDED, retired - SECOND) is None
    refusal = key_refusal(key(retired), RECORDED, retired)
    assert refusal is not None and "was retired at" in refusal


def test_the_ledgers_own_entries_need_no_signature_but_a_platforms_events_do() -> None:
    assert not needs_signature({"kind": "points.redeemed"})
    assert not needs_signature({"kind": "points.redemption_reversed"})
    for kind in ("points.awarded", "points.deducted", "points.revoked"):
        assert needs_signature({"kind": kind})
    assert needs_signature({"kind": "points.redeemed", "webhook_signature": "v1a,x"})


def test_the_signed_fields_are_read_in_their_declared_order() -> None:
    entry = {name: f"value of {name}" for name in SIGNED_FIELDS}
    assert signed_fields(entry) == tuple(entry[name] for name in SIGNED_FIELDS)
