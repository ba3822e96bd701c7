"""SPEC §4.5: every event ends in exactly one outcome, and every refusal is kept whole.

Each outcome is produced by a crafted input through the same ingestion path the API and the
consumer use, on SQLite and on PostgreSQL. The ledger's rules themselves (duplicates,
conflicts, revocations) are decided without a database in test_deciding.py; here the whole
path records, refuses and deduplicates the same on each database. Refusals decided before the
ledger's history is read (size, JSON, schema, platform, signature, key, clock) are in
test_refused_before_history.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import Delivery
from tests.ledger.helpers import (
    assert_rejected_and_kept,
    entries,
    ingest_one,
    lowered,
    now_s,
    raw_delivery,
    rejections,
    signed_by_a_stranger,
    snapshot,
)
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture

# --- recorded and duplicate ------------------------------------------------------------------

def test_signed_award_is_recorded_with_its_exact_bytes_and_signature(
        ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    outcome = ingest_one(ledger, delivery)
    assert outcome.status is Status.RECORDED
    assert (outcome.platform, outcome.event_id, outcome.seq) == (platform.code, "lijiayuan-1", 1)
    (entry,) = entries(ledger)
    assert entry.entry_hash == outcome.entry_hash
    assert entry.body is not None and entry.body.encode("utf-8") == delivery.body
    assert entry.key_id == platform.key_id
    assert entry.webhook_timestamp == int(delivery.headers["webhook-timestamp"])
    assert entry.webhook_signature == delivery.headers["webhook-signature"]
    assert (entry.kind, entry.points, entry.platform_seq) == ("points.awarded", 10, 1)
    assert rejections(ledger) == []


def test_duplicate_delivery_changes_nothing(ledger: Ledger, platform: PlatformFixture) -> None:
    award = platform.delivery(points=30)
    deduction = platform.delivery(type="points.deducted", points=5, category="safety_patrol")
    revocation = platform.delivery(type="points.revoked", revokes="lijiayuan-1", points=30)
    first = ledger.ingestor.ingest([award, deduction, revocation])
    assert [outcome.status for outcome in first] == [Status.RECORDED] * 3
    before = snapshot(ledger)

    # The same bytes again, once more signed later (a platform retrying after a timeout).
    award_event = json.loads(award.body)
    resigned = platform.delivery(award_event, timestamp=now_s() + 5)
    assert resigned.body == award.body and resigned.headers != award.headers
    again = ledger.ingestor.ingest([award, deduction, revocation, resigned, award])

    assert [outcome.status for outcome in again] == [Status.DUPLICATE] * 5
    assert [outcome.seq for outcome in again] == [1, 2, 3, 1, 1]
    assert [outcome.entry_hash for outcome in again[:3]] == [o.entry_hash for o in first]
    assert snapshot(ledger) == before


def test_duplicate_inside_one_batch_is_recorded_once(
        ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    outcomes = ledger.ingestor.ingest([delivery, delivery, delivery])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED, Status.DUPLICATE,
                                                         Status.DUPLICATE]
    assert len(entries(ledger)) == 1
    assert rejections(ledger) == []


# --- the ledger's rules, on the history read back from each database --------------------------
# Each rule, and its details, is pinned without a database in test_deciding.py; here a refusal
# of each kind, decided on the history read back from the database, is kept whole.

def _revocation(platform: PlatformFixture, target: str, **overrides: Any) -> Delivery:
    fields: dict[str, Any] = {"type": "points.revoked", "revokes": target, "points": 10}
    fields.update(overrides)
    return platform.delivery(**fields)


RefusalCase = Callable[[PlatformFixture], tuple[list[Delivery], Delivery]]

REFUSED_BY_THE_RULES: dict[str, tuple[Reason, RefusalCase]] = {
    # case: (the reason, (what is recorded first, the delivery then refused))
    "same-event-id-other-body": (Reason.ID_CONFLICT, lambda platform: (
        [platform.delivery(seq=1, points=10)], platform.delivery(seq=1, points=11))),
    "same-seq-other-event": (Reason.SEQ_CONFLICT, lambda platform: (
        [platform.delivery(seq=7)], platform.delivery(seq=7, event_id="lijiayuan-other"))),
    "revokes-nothing-recorded": (Reason.UNKNOWN_REVOCATION_TARGET, lambda platform: (
        [], _revocation(platform, "lijiayuan-404"))),
    # The four ways of not restating the award: each reads a column of the entry back.
    "revokes-other-resident": (Reason.REVOCATION_MISMATCH, lambda platform: (
        [platform.delivery(resident=RESIDENT_A)],
        _revocation(platform, "lijiayuan-1", resident=RESIDENT_B))),
    "revokes-a-deduction": (Reason.REVOCATION_MISMATCH, lambda platform: (
        [platform.delivery(type="points.deducted")], _revocation(platform, "lijiayuan-1"))),
    "revokes-other-points": (Reason.REVOCATION_MISMATCH, lambda platform: (
        [platform.delivery(points=10)], _revocation(platform, "lijiayuan-1", points=11))),
    "revokes-other-category": (Reason.REVOCATION_MISMATCH, lambda platform: (
        [platform.delivery()], _revocation(platform, "lijiayuan-1", category="volunteering"))),
    "revokes-a-revocation": (Reason.REVOCATION_MISMATCH, lambda platform: (
        [platform.delivery(), _revocation(platform, "lijiayuan-1")],
        _revocation(platform, "lijiayuan-2"))),
    "revokes-again": (Reason.ALREADY_REVOKED, lambda platform: (
        [platform.delivery(), _revocation(platform, "lijiayuan-1")],
        _revocation(platform, "lijiayuan-1"))),
}


@pytest.mark.parametrize("case", list(REFUSED_BY_THE_RULES))
def test_a_refusal_of_the_rules_is_kept_whole_and_the_ledger_stands(
        ledger: Ledger, platform: PlatformFixture, case: str) -> None:
    reason, build = REFUSED_BY_THE_RULES[case]
    recorded_first, refused = build(platform)
    if recorded_first:
        outcomes = ledger.ingestor.ingest(recorded_first)
        assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * len(outcomes)
    outcome = assert_rejected_and_kept(ledger, refused, reason)
    assert outcome.event_id == refused.headers["webhook-id"]
    assert len(entries(ledger)) == len(recorded_first), "the entries recorded first stand"


def test_a_revocation_of_another_platforms_award_is_unknown_revocation_target(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    award = other_platform.delivery()
    assert ingest_one(ledger, award).status is Status.RECORDED
    assert_rejected_and_kept(ledger, _revocation(platform, "nanyang_young-1"),
                             Reason.UNKNOWN_REVOCATION_TARGET)


def test_the_same_seq_and_event_id_on_two_platforms_are_no_conflict(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    outcomes = ledger.ingestor.ingest([platform.delivery(seq=1, event_id="shared-1"),
                                       other_platform.delivery(seq=1)])
    later = ledger.ingestor.ingest([other_platform.delivery(seq=2, event_id="shared-1"),
                                    platform.delivery(seq=2)])
    assert [outcome.status for outcome in outcomes + later] == [Status.RECORDED] * 4


# --- nothing is dropped ------------------------------------------------------------------------

def test_every_refusal_in_a_mixed_batch_is_kept_in_order(
        ledger: Ledger, platform: PlatformFixture) -> None:
    award = platform.delivery(seq=1)
    batch = [
        raw_delivery(platform, b"{"),
        platform.delivery(seq=2, points=True),
        platform.delivery(seq=3, platform="unknown_place"),
        signed_by_a_stranger(platform),
        platform.delivery(seq=4, timestamp=now_s() + 3600),
        award,
        platform.delivery(seq=1, points=12),
        platform.delivery(seq=1, event_id="lijiayuan-x"),
        _revocation(platform, "lijiayuan-77", seq=5),
        _revocation(platform, "lijiayuan-1", seq=6, points=3),
        _revocation(platform, "lijiayuan-1", seq=7),
        _revocation(platform, "lijiayuan-1", seq=8),
        award,
    ]
    outcomes = ledger.ingestor.ingest(batch)
    expected = [
        Reason.MALFORMED_JSON, Reason.SCHEMA_INVALID, Reason.UNKNOWN_PLATFORM,
        Reason.BAD_SIGNATURE, Reason.TIMESTAMP_SKEW, None, Reason.ID_CONFLICT,
        Reason.SEQ_CONFLICT, Reason.UNKNOWN_REVOCATION_TARGET, Reason.REVOCATION_MISMATCH,
        None, Reason.ALREADY_REVOKED, None,
    ]
    assert [outcome.reason for outcome in outcomes] == expected
    assert [outcome.status for outcome in outcomes].count(Status.DUPLICATE) == 1
    kept = rejections(ledger)
    refused = [(delivery, reason) for delivery, reason in zip(batch, expected, strict=True)
               if reason is not None]
    assert [(row.reason, row.body, row.headers) for row in kept] == [
        (reason.value, delivery.body, lowered(delivery.headers))
        for delivery, reason in refused]
    assert [entry.event_id for entry in entries(ledger)] == ["lijiayuan-1", "lijiayuan-7"]
