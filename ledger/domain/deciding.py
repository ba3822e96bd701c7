"""What becomes of a verified event, given the ledger's history: the ledger's rules (SPEC §4.5).

An event already recorded with the same body is a duplicate; the same event id with another
body, or another event's platform seq, is a conflict; a revocation must name an award of its
platform that is recorded, restated exactly and not revoked yet. Anything else is recorded as
the next entry of the chain.

Pure: the history is handed in (read by `ledger.infra.db.history`, grown here as a batch is
decided, so that duplicates and revocations inside one batch are seen), and nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ledger.contract.categories import EntryKind, EventType
from ledger.domain.entry import LedgerEntry, leaf_and_entry_hash
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.verification import VerifiedEvent

# (platform, event id) and (platform, platform seq): both unique per platform only.
EventKey = tuple[str, str]
SeqKey = tuple[str, int]


@dataclass(frozen=True)
class ChainHead:
    """The last entry of the chain (seq 0 and the genesis hash before the first)."""

    seq: int
    entry_hash: bytes


@dataclass(frozen=True)
class Known:
    """What a decision needs to know of an entry already in the ledger (or decided just now)."""

    seq: int
    entry_hash: str
    kind: str
    event_id: str | None
    platform_seq: int | None
    resident: str
    category: str | None
    points: int
    occurred_at: datetime
    body: str | None


@dataclass(frozen=True)
class Needs:
    """The history a batch of events can collide with or revoke, per platform: the entries of
    its event ids and revocation targets, of its platform seqs, and which targets are revoked."""

    event_ids: dict[str, set[str]]
    platform_seqs: dict[str, set[int]]
    revocation_targets: dict[str, set[str]]


@dataclass
class History:
    """The known entries a batch's decisions look up, and the awards already revoked."""

    by_event_id: dict[EventKey, Known] = field(default_factory=dict)
    by_platform_seq: dict[SeqKey, Known] = field(default_factory=dict)
    revoked: set[EventKey] = field(default_factory=set)

    def remember(self, platform: str, known: Known) -> None:
        if known.event_id is not None:
            self.by_event_id[(platform, known.event_id)] = known
        if known.platform_seq is not None:
            self.by_platform_seq[(platform, known.platform_seq)] = known

    def apply(self, decision: Decision) -> None:
        """Grow the history by what `decision` records, for the events decided after it."""
        if decision.recorded is None:
            return
        entry = decision.recorded.entry
        self.remember(entry.platform, Known(
            entry.seq, decision.recorded.entry_hash.hex(), entry.kind, entry.event_id,
            entry.platform_seq, entry.resident, entry.category, entry.points,
            entry.occurred_at, entry.body))
        if entry.revokes is not None:
            self.revoked.add((entry.platform, entry.revokes))


@dataclass(frozen=True)
class Recorded:
    """An entry to append, and what it counts for in the projections."""

    entry: LedgerEntry
    entry_hash: bytes
    magnitude: int
    # A revocation counts against the award's own month and category (SPEC §6).
    counted_category: str
    counted_at: datetime
    # The entry's leaf in the Merkle tree (SPEC §14), computed with its entry hash.
    leaf_hash: bytes

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.entry.seq, self.entry_hash)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    recorded: Recorded | None = None


def needs_of(events: Iterable[VerifiedEvent]) -> Needs:
    """What `decide` may look up for these events: to be read before the first is decided."""
    needs = Needs(defaultdict(set), defaultdict(set), defaultdict(set))
    for event in events:
        envelope = event.envelope
        needs.event_ids[envelope.platform].add(envelope.event_id)
        needs.platform_seqs[envelope.platform].add(envelope.seq)
        if envelope.revokes is not None:
            needs.event_ids[envelope.platform].add(envelope.revokes)
            needs.revocation_targets[envelope.platform].add(envelope.revokes)
    return needs


def decide(event: VerifiedEvent, history: History, head: ChainHead, now: datetime) -> Decision:
    """The outcome of `event` after `history`; when recorded, the entry after `head`."""
    envelope = event.envelope
    body = event.delivery.body.decode("utf-8")
    platform = envelope.platform

    def refuse(reason: Reason, detail: str) -> Decision:
        return Decision(Outcome.rejected(reason, detail, platform=platform,
                                         event_id=envelope.event_id))

    existing = history.by_event_id.get((platform, envelope.event_id))
    if existing is not None:
        if existing.body == body:
            return Decision(Outcome(Status.DUPLICATE, "this event is already recorded", platform,
                                    envelope.event_id, seq=existing.seq,
                                    entry_hash=existing.entry_hash))
        return refuse(Reason.ID_CONFLICT,
                      f"event_id {envelope.event_id!r} is already recorded with another body")
    holder = history.by_platform_seq.get((platform, envelope.seq))
    if holder is not None:
        return refuse(Reason.SEQ_CONFLICT,
                      f"seq {envelope.seq} of {platform} belongs to event {holder.event_id!r}")

    counted_category: str = envelope.category.value
    counted_at = envelope.occurred_at
    if envelope.type is EventType.REVOKED:
        assert envelope.revokes is not None
        target = history.by_event_id.get((platform, envelope.revokes))
        if target is None:
            return refuse(Reason.UNKNOWN_REVOCATION_TARGET,
                          f"no recorded event {envelope.revokes!r} of {platform} to revoke")
        mismatch = revocation_mismatch(target, envelope.resident, envelope.points,
                                       envelope.category)
        if mismatch:
            return refuse(Reason.REVOCATION_MISMATCH, mismatch)
        if (platform, envelope.revokes) in history.revoked:
            return refuse(Reason.ALREADY_REVOKED, f"event {envelope.revokes!r} is already revoked")
        assert target.category is not None
        counted_category, counted_at = target.category, target.occurred_at

    kind = EntryKind(envelope.type.value)
    entry = LedgerEntry(
        seq=head.seq + 1,
        kind=kind.value,
        platform=platform,
        event_id=envelope.event_id,
        platform_seq=envelope.seq,
        resident=envelope.resident,
        category=envelope.category.value,
        points=kind.delta_sign * envelope.points,
        occurred_at=envelope.occurred_at,
        recorded_at=now,
        revokes=envelope.revokes,
        key_id=event.key_id,
        body=body,
        webhook_timestamp=event.webhook_timestamp,
        webhook_signature=event.webhook_signature,
    )
    leaf_hash, entry_hash = leaf_and_entry_hash(head.entry_hash, entry)
    return Decision(
        Outcome(Status.RECORDED, "recorded", platform, envelope.event_id, seq=entry.seq,
                entry_hash=entry_hash.hex()),
        Recorded(entry, entry_hash, envelope.points, counted_category, counted_at, leaf_hash))


def decide_in_order(events: Sequence[VerifiedEvent], history: History, head: ChainHead,
                    now: datetime) -> list[Decision]:
    """Each event decided after those before it: `history` grows with what is recorded."""
    decisions: list[Decision] = []
    for event in events:
        decision = decide(event, history, head, now)
        if decision.recorded is not None:
            history.apply(decision)
            head = decision.recorded.head
        decisions.append(decision)
    return decisions


def revocation_mismatch(target: Known, resident: str, points: int, category: str) -> str:
    """Why a revocation does not restate the award it withdraws, or '' when it does."""
    if target.kind != EntryKind.AWARDED:
        return f"event {target.event_id!r} is a {target.kind}, not an award"
    if target.resident != resident:
        return "the revocation names another resident than the award"
    if target.points != points:
        return f"the award was {target.points} points, the revocation says {points}"
    if target.category != category:
        return f"the award was in {target.category}, the revocation says {category}"
    return ""
