"""SPEC §6: per platform, the highest seq seen and the gaps below it."""

from __future__ import annotations

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Reason, Status
from tests.ledger.helpers import seq_tracking
from tests.support import PlatformFixture


def record_seqs(ledger: Ledger, platform: PlatformFixture, *seqs: int) -> None:
    """One batch with one award per seq, in the order given."""
    outcomes = ledger.ingestor.ingest([platform.delivery(seq=seq) for seq in seqs])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * len(seqs), outcomes


def test_a_new_platform_has_seen_nothing(ledger: Ledger, platform: PlatformFixture) -> None:
    assert seq_tracking(ledger, platform.code) == (0, [])


def test_consecutive_seqs_leave_no_gap(ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 2)
    record_seqs(ledger, platform, 3)
    assert seq_tracking(ledger, platform.code) == (3, [])


def test_skipped_seqs_appear_as_gaps(ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 2, 5)
    assert seq_tracking(ledger, platform.code) == (5, [(3, 4)])
    record_seqs(ledger, platform, 9)
    assert seq_tracking(ledger, platform.code) == (9, [(3, 4), (6, 8)])


def test_a_first_seq_above_one_opens_a_gap_from_one(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 4)
    assert seq_tracking(ledger, platform.code) == (4, [(1, 3)])


def test_late_events_shrink_a_gap_from_either_end(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 6)
    record_seqs(ledger, platform, 2)
    assert seq_tracking(ledger, platform.code) == (6, [(3, 5)])
    record_seqs(ledger, platform, 5)
    assert seq_tracking(ledger, platform.code) == (6, [(3, 4)])
    record_seqs(ledger, platform, 3, 4)
    assert seq_tracking(ledger, platform.code) == (6, [])


def test_a_late_event_in_the_middle_splits_a_gap(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 10)
    record_seqs(ledger, platform, 5)
    assert seq_tracking(ledger, platform.code) == (10, [(2, 4), (6, 9)])
    record_seqs(ledger, platform, 7)
    assert seq_tracking(ledger, platform.code) == (10, [(2, 4), (6, 6), (8, 9)])


def test_a_one_seq_gap_closes(ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 3)
    assert seq_tracking(ledger, platform.code) == (3, [(2, 2)])
    record_seqs(ledger, platform, 2)
    assert seq_tracking(ledger, platform.code) == (3, [])


def test_seqs_out_of_order_inside_one_batch(ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 5, 1, 3)
    assert seq_tracking(ledger, platform.code) == (5, [(2, 2), (4, 4)])
    record_seqs(ledger, platform, 8, 2, 12, 6)
    assert seq_tracking(ledger, platform.code) == (12, [(4, 4), (7, 7), (9, 11)])


def test_one_batch_fills_and_extends_at_once(ledger: Ledger, platform: PlatformFixture) -> None:
    record_seqs(ledger, platform, 1, 4)
    record_seqs(ledger, platform, 7, 2, 3, 5, 6)
    assert seq_tracking(ledger, platform.code) == (7, [])


def test_rejected_and_duplicate_events_do_not_move_the_tracking(
        ledger: Ledger, platform: PlatformFixture) -> None:
    first = platform.delivery(seq=1)
    record_seqs(ledger, platform, 3)
    outcomes = ledger.ingestor.ingest([
        first,
        first,                                                   # duplicate
        platform.delivery(seq=3, event_id="another"),            # seq_conflict
        platform.delivery(seq=9, points=0),                      # schema_invalid
        platform.delivery(seq=8, type="points.revoked", revokes="nothing"),
    ])
    assert [outcome.reason for outcome in outcomes] == [
        None, None, Reason.SEQ_CONFLICT, Reason.SCHEMA_INVALID,
        Reason.UNKNOWN_REVOCATION_TARGET]
    assert seq_tracking(ledger, platform.code) == (3, [(2, 2)])


def test_each_platform_has_its_own_seqs(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    outcomes = ledger.ingestor.ingest([
        platform.delivery(seq=2), other_platform.delivery(seq=1),
        other_platform.delivery(seq=4), platform.delivery(seq=3),
    ])
    assert all(outcome.status is Status.RECORDED for outcome in outcomes)
    assert seq_tracking(ledger, platform.code) == (3, [(1, 1)])
    assert seq_tracking(ledger, other_platform.code) == (4, [(2, 3)])
