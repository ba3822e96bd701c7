"""The ledger's rules for a verified event (SPEC §4.5), decided without a database.

`ledger.domain.deciding` is given the history an event can collide with or revoke and the
chain head, and says what becomes of the event. Examples pin each outcome with the very
details the API and the CLI show; properties check, on random streams of awards, deductions,
revocations (valid and flawed), re-deliveries and conflicts, that cutting a stream into batches
changes nothing (the history grown inside a batch is the history read back after it), that a
decision changes nothing it is given, and the invariants the writer and the database rely on.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract.envelope import parse_envelope
from ledger.contract.signing import event_body
from ledger.domain.deciding import (
    ChainHead,
    Decision,
    History,
    Known,
    Needs,
    decide,
    decide_in_order,
    needs_of,
)
from ledger.domain.entry import GENESIS_HASH, next_entry_hash
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.service.projections import shanghai_month
from tests.support import RESIDENT_A, RESIDENT_B

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
START = ChainHead(0, GENESIS_HASH)
PLATFORMS = ("lijiayuan", "pingan_gongfu")
CATEGORIES = ("garbage_sorting", "safety_patrol")
MOMENTS = ("2026-09-15T10:00:00+08:00", "2026-10-31T15:59:59Z", "2026-10-31T17:00:00Z")


def verified(platform: str = "lijiayuan", seq: int = 1, **fields: Any) -> VerifiedEvent:
    """An event as stage one passes it on (its signature is not looked at here)."""
    event: dict[str, Any] = {
        "event_id": f"{platform}-{seq}", "platform": platform, "seq": seq,
        "type": "points.awarded", "resident": RESIDENT_A, "category": "garbage_sorting",
        "points": 10, "occurred_at": "2026-11-01T09:30:00+08:00"}
    event.update(fields)
    body = event_body({key: value for key, value in event.items() if value is not None})
    return VerifiedEvent(Delivery(body, {}, "http"), parse_envelope(body), "key_1",
                         1_795_000_000, "v1a,signature")


def revocation(target: str, seq: int, **fields: Any) -> VerifiedEvent:
    return verified(seq=seq, **{"type": "points.revoked", "revokes": target, **fields})


def outcomes_of(*events: VerifiedEvent, history: History | None = None) -> list[Decision]:
    return decide_in_order(list(events), history or History(), START, NOW)


def reasons(decisions: list[Decision]) -> list[Reason | None]:
    return [decision.outcome.reason for decision in decisions]


# --- examples: every outcome of the rules, with what it says ----------------------------------

def test_a_new_event_is_recorded_as_the_next_entry_of_the_chain() -> None:
    event = verified()
    (decision,) = outcomes_of(event)
    assert decision.recorded is not None
    entry = decision.recorded.entry
    assert (entry.seq, entry.kind, entry.points, entry.platform_seq) == (
        1, "points.awarded", 10, 1)
    assert entry.body is not None and entry.body.encode("utf-8") == event.delivery.body
    assert (entry.key_id, entry.webhook_timestamp, entry.webhook_signature, entry.recorded_at) \
        == ("key_1", 1_795_000_000, "v1a,signature", NOW)
    assert decision.recorded.entry_hash == next_entry_hash(GENESIS_HASH, entry)
    outcome = decision.outcome
    assert (outcome.status, outcome.detail, outcome.seq, outcome.entry_hash) == (
        Status.RECORDED, "recorded", 1, decision.recorded.entry_hash.hex())


def test_the_same_bytes_inside_one_batch_are_recorded_once() -> None:
    event = verified()
    decisions = outcomes_of(event, event, event)
    assert [decision.outcome.status for decision in decisions] == [
        Status.RECORDED, Status.DUPLICATE, Status.DUPLICATE]
    first = decisions[0].outcome
    for duplicate in decisions[1:]:
        assert duplicate.recorded is None
        assert (duplicate.outcome.detail, duplicate.outcome.seq, duplicate.outcome.entry_hash) \
            == ("this event is already recorded", first.seq, first.entry_hash)


def test_the_same_event_id_with_another_body_is_id_conflict() -> None:
    decisions = outcomes_of(verified(points=10), verified(points=11))
    assert reasons(decisions) == [None, Reason.ID_CONFLICT]
    refused = decisions[1].outcome
    assert (refused.detail, refused.platform, refused.event_id) == (
        "event_id 'lijiayuan-1' is already recorded with another body", "lijiayuan",
        "lijiayuan-1")


def test_the_same_platform_seq_for_another_event_is_seq_conflict() -> None:
    decisions = outcomes_of(verified(seq=7), verified(seq=7, event_id="lijiayuan-other"))
    assert reasons(decisions) == [None, Reason.SEQ_CONFLICT]
    assert decisions[1].outcome.detail == "seq 7 of lijiayuan belongs to event 'lijiayuan-7'"
    assert decisions[1].outcome.event_id == "lijiayuan-other"


def test_the_same_seq_or_event_id_on_two_platforms_is_no_conflict() -> None:
    decisions = outcomes_of(verified(seq=1), verified("nanyang_young", seq=1),
                            verified(seq=2, event_id="shared-1"),
                            verified("nanyang_young", seq=2, event_id="shared-1"))
    assert [decision.outcome.status for decision in decisions] == [Status.RECORDED] * 4


def test_a_revocation_of_nothing_recorded_is_unknown_revocation_target() -> None:
    (decision,) = outcomes_of(revocation("lijiayuan-404", seq=1))
    assert decision.outcome.reason is Reason.UNKNOWN_REVOCATION_TARGET
    assert decision.outcome.detail == "no recorded event 'lijiayuan-404' of lijiayuan to revoke"


def test_a_revocation_of_another_platforms_award_is_unknown_revocation_target() -> None:
    decisions = outcomes_of(verified("nanyang_young", seq=1),
                            revocation("nanyang_young-1", seq=1))
    assert reasons(decisions) == [None, Reason.UNKNOWN_REVOCATION_TARGET]


def test_a_revocation_before_its_award_in_the_same_batch_is_unknown_revocation_target() -> None:
    decisions = outcomes_of(revocation("lijiayuan-1", seq=2), verified(seq=1))
    assert reasons(decisions) == [Reason.UNKNOWN_REVOCATION_TARGET, None]


def test_a_second_revocation_of_the_same_award_is_already_revoked() -> None:
    decisions = outcomes_of(verified(), revocation("lijiayuan-1", seq=2),
                            revocation("lijiayuan-1", seq=3))
    assert reasons(decisions) == [None, None, Reason.ALREADY_REVOKED]
    assert decisions[2].outcome.detail == "event 'lijiayuan-1' is already revoked"


MISMATCHES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # case: (the recorded target's fields, the revocation's fields, the detail)
    "other-resident": ({}, {"resident": RESIDENT_B},
                       "the revocation names another resident than the award"),
    "target-is-a-deduction": ({"type": "points.deducted"}, {},
                              "event 'lijiayuan-1' is a points.deducted, not an award"),
    "different-points": ({}, {"points": 11}, "the award was 10 points, the revocation says 11"),
    "different-category": ({}, {"category": "volunteering"},
                           "the award was in garbage_sorting, the revocation says volunteering"),
}


def test_a_revocation_that_does_not_restate_its_award_is_revocation_mismatch() -> None:
    for case, (target_fields, revocation_fields, detail) in MISMATCHES.items():
        decisions = outcomes_of(verified(**target_fields),
                                revocation("lijiayuan-1", seq=2, **revocation_fields))
        assert reasons(decisions) == [None, Reason.REVOCATION_MISMATCH], case
        assert decisions[1].outcome.detail == detail, case


def test_a_revocation_of_a_revocation_is_revocation_mismatch() -> None:
    decisions = outcomes_of(verified(), revocation("lijiayuan-1", seq=2),
                            revocation("lijiayuan-2", seq=3))
    assert reasons(decisions) == [None, None, Reason.REVOCATION_MISMATCH]
    assert decisions[2].outcome.detail == \
        "event 'lijiayuan-2' is a points.revoked, not an award"


def test_a_refused_revocation_leaves_the_award_revocable() -> None:
    decisions = outcomes_of(verified(), revocation("lijiayuan-1", seq=2, points=99),
                            revocation("lijiayuan-1", seq=3))
    assert reasons(decisions) == [None, Reason.REVOCATION_MISMATCH, None]


def test_a_revocation_counts_in_the_month_and_category_of_its_award() -> None:
    award = verified(occurred_at="2026-10-31T17:00:00Z")  # November in Shanghai
    withdrawn = revocation("lijiayuan-1", seq=2, occurred_at="2026-12-01T09:00:00+08:00")
    decisions = outcomes_of(award, withdrawn)
    recorded = decisions[1].recorded
    assert recorded is not None
    assert (recorded.entry.points, recorded.magnitude) == (-10, 10)
    assert recorded.counted_category == "garbage_sorting"
    assert shanghai_month(recorded.counted_at) == "2026-11"
    assert shanghai_month(recorded.entry.occurred_at) == "2026-12"


def test_the_history_read_from_the_ledger_is_decided_on_as_the_batch_own() -> None:
    """A revocation in a later batch finds its award in what was read back, as in one batch."""
    (award,) = outcomes_of(verified())
    assert award.recorded is not None
    history = loaded(recorded_so_far([award]), needs_of([revocation("lijiayuan-1", seq=2)]))
    later = decide_in_order([revocation("lijiayuan-1", seq=2)], history,
                            award.recorded.head, NOW)
    assert reasons(later) == [None]
    assert later[0].outcome.seq == 2


def test_needs_name_every_id_seq_and_target_of_the_batch() -> None:
    needs = needs_of([verified(seq=3), revocation("lijiayuan-1", seq=4),
                      verified("nanyang_young", seq=9)])
    assert needs.event_ids == {"lijiayuan": {"lijiayuan-3", "lijiayuan-4", "lijiayuan-1"},
                               "nanyang_young": {"nanyang_young-9"}}
    assert needs.platform_seqs == {"lijiayuan": {3, 4}, "nanyang_young": {9}}
    assert needs.revocation_targets == {"lijiayuan": {"lijiayuan-1"}}


# --- properties -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Persisted:
    """An entry as the ledger holds it, for the stand-in of the history loader below."""

    platform: str
    known: Known
    revokes: str | None


def recorded_so_far(decisions: list[Decision]) -> list[Persisted]:
    kept = []
    for decision in decisions:
        if decision.recorded is not None:
            entry = decision.recorded.entry
            kept.append(Persisted(entry.platform, Known(
                entry.seq, decision.recorded.entry_hash.hex(), entry.kind, entry.event_id,
                entry.platform_seq, entry.resident, entry.category, entry.points,
                entry.occurred_at, entry.body), entry.revokes))
    return kept


def loaded(ledger: list[Persisted], needs: Needs) -> History:
    """What `ledger.infra.db.history.load_history` reads: the entries with an event id or a
    platform seq the batch names, and which of its revocation targets are revoked already."""
    history = History()
    for row in ledger:
        if (row.known.event_id in needs.event_ids.get(row.platform, set())
                or row.known.platform_seq in needs.platform_seqs.get(row.platform, set())):
            history.remember(row.platform, row.known)
        if row.revokes in needs.revocation_targets.get(row.platform, set()):
            history.revoked.add((row.platform, row.revokes))
    return history


@st.composite
def streams(draw: st.DrawFn) -> list[VerifiedEvent]:
    """Awards, deductions and revocations (some flawed) of two platforms, with re-deliveries
    and conflicting re-uses of event ids and platform seqs mixed in."""
    events: list[VerifiedEvent] = []
    next_seq = dict.fromkeys(PLATFORMS, 1)
    targeted: list[VerifiedEvent] = []
    for _ in range(draw(st.integers(1, 30))):
        operation = draw(st.sampled_from(["award", "award", "deduction", "revocation",
                                          "redelivery", "id_conflict", "seq_conflict"]))
        if operation in ("redelivery", "id_conflict", "seq_conflict") and events:
            earlier = draw(st.sampled_from(events)).envelope
            if operation == "redelivery":
                events.append(draw(st.sampled_from(events)))
                continue
            platform = earlier.platform
            seq = earlier.seq if operation == "seq_conflict" else next_seq[platform]
            event_id = earlier.event_id if operation == "id_conflict" else None
            next_seq[platform] += operation == "id_conflict"
            events.append(verified(platform, seq, event_id=event_id or f"{platform}-x{seq}",
                                   points=draw(st.integers(1, 50))))
            continue
        platform = draw(st.sampled_from(PLATFORMS))
        fields: dict[str, Any] = {
            "resident": draw(st.sampled_from((RESIDENT_A, RESIDENT_B))),
            "category": draw(st.sampled_from(CATEGORIES)),
            "points": draw(st.integers(1, 50)), "occurred_at": draw(st.sampled_from(MOMENTS))}
        if operation == "deduction":
            fields["type"] = "points.deducted"
        elif operation == "revocation" and events:
            flaw = draw(st.sampled_from(["none", "none", "again", "points", "resident",
                                         "category", "other_platform"]))
            # "again": what an earlier revocation revoked (already_revoked, if that one stood).
            targeted.append(draw(st.sampled_from(
                targeted if flaw == "again" and targeted else events)))
            target = targeted[-1].envelope
            fields.update(type="points.revoked", revokes=target.event_id,
                          resident=target.resident, category=target.category.value,
                          points=target.points)
            if flaw != "other_platform":
                platform = target.platform
            if flaw == "points":
                fields["points"] = target.points % 50 + 1
            elif flaw == "resident":
                fields["resident"] = RESIDENT_B if target.resident == RESIDENT_A else RESIDENT_A
            elif flaw == "category":
                fields["category"] = "volunteering"
        seq = next_seq[platform]
        next_seq[platform] += 1
        events.append(verified(platform, seq, **fields))
    return events


def in_batches(events: list[VerifiedEvent], cuts: list[int]) -> list[Decision]:
    """Each batch decided on the history read back from what the batches before it recorded."""
    bounds = sorted({0, len(events), *(cut % (len(events) + 1) for cut in cuts)})
    decisions: list[Decision] = []
    head = START
    for start, end in itertools.pairwise(bounds):
        batch = events[start:end]
        history = loaded(recorded_so_far(decisions), needs_of(batch))
        decided = decide_in_order(batch, history, head, NOW)
        for decision in decided:
            if decision.recorded is not None:
                head = decision.recorded.head
        decisions.extend(decided)
    return decisions


@settings(max_examples=300, deadline=None, derandomize=True)
@given(events=streams(), cuts=st.lists(st.integers(0, 40), max_size=6))
def test_cutting_a_stream_into_batches_changes_no_decision(
        events: list[VerifiedEvent], cuts: list[int]) -> None:
    assert in_batches(events, cuts) == outcomes_of(*events)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(events=streams(), last=st.integers(0, 29))
def test_a_decision_changes_nothing_it_is_given(events: list[VerifiedEvent], last: int) -> None:
    *before, event = events[:last % len(events) + 1]
    history = History()
    head = START
    for decision in decide_in_order(before, history, START, NOW):
        if decision.recorded is not None:
            head = decision.recorded.head
    kept = copy.deepcopy(history)
    first = decide(event, history, head, NOW)
    assert history == kept
    assert decide(event, history, head, NOW) == first


@settings(max_examples=300, deadline=None, derandomize=True)
@given(events=streams())
def test_what_is_recorded_keeps_the_ledgers_invariants(events: list[VerifiedEvent]) -> None:
    decisions = outcomes_of(*events)
    recorded = [decision.recorded for decision in decisions if decision.recorded is not None]
    # The chain: seq 1..n without a gap, each hash over the one before.
    previous = GENESIS_HASH
    for seq, entry in enumerate(recorded, start=1):
        assert entry.entry.seq == seq
        assert entry.entry_hash == next_entry_hash(previous, entry.entry)
        previous = entry.entry_hash
    # An event id and a platform seq are recorded once per platform; an award revoked once.
    assert len({(r.entry.platform, r.entry.event_id) for r in recorded}) == len(recorded)
    assert len({(r.entry.platform, r.entry.platform_seq) for r in recorded}) == len(recorded)
    revoked = [(r.entry.platform, r.entry.revokes) for r in recorded if r.entry.revokes]
    assert len(set(revoked)) == len(revoked)
    # What the CHECK on monthly_contributions relies on: no cell revokes more than it awarded.
    awarded: Counter[tuple[str, str, str, str]] = Counter()
    withdrawn: Counter[tuple[str, str, str, str]] = Counter()
    for entry in recorded:
        cell = (entry.entry.resident, entry.entry.platform, entry.counted_category,
                shanghai_month(entry.counted_at))
        if entry.entry.kind == "points.awarded":
            awarded[cell] += entry.magnitude
        elif entry.entry.kind == "points.revoked":
            withdrawn[cell] += entry.magnitude
            assert withdrawn[cell] <= awarded[cell]
    # Every event ends in one outcome, and a duplicate points at the entry it repeats.
    by_hash = {entry.entry_hash.hex(): entry for entry in recorded}
    for event, decision in zip(events, decisions, strict=True):
        if decision.outcome.status is Status.DUPLICATE:
            original = by_hash[str(decision.outcome.entry_hash)]
            assert original.entry.body == event.delivery.body.decode("utf-8")
            assert original.entry.seq == decision.outcome.seq


@settings(max_examples=150, deadline=None, derandomize=True)
@given(events=streams())
def test_every_recorded_event_sent_again_is_a_duplicate(events: list[VerifiedEvent]) -> None:
    first = outcomes_of(*events)
    recorded = [event for event, decision in zip(events, first, strict=True)
                if decision.recorded is not None]
    history = loaded(recorded_so_far(first), needs_of(recorded))
    again = decide_in_order(recorded, history, ChainHead(len(recorded), GENESIS_HASH), NOW)
    assert [decision.outcome.status for decision in again] == [Status.DUPLICATE] * len(recorded)
    assert [decision.outcome.seq for decision in again] == [
        decision.outcome.seq for decision in first if decision.recorded is not None]
