"""Inclusion proofs as readers ask for them (SPEC §14, §12): of an entry within the reader's
scope, and of a platform's recorded event in the latest checkpoint, with that checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.service.checkpoints import published_notes
from ledger.service.errors import Forbidden, NotFound
from ledger.service.ledger_read import EntryFilter, entry_at, entry_of_event
from ledger.service.proofs import InclusionProof, inclusion, inclusion_in_latest, signed_size


def check_entry_in_scope(session: Session, log: str, seq: int, scope: str | None) -> None:
    """A reader bound to a platform (its operator) reads proofs of that platform's own events
    only: not the counter's redemptions, not the audit trail. Whether another platform's entry
    exists is not told either."""
    if scope is None:
        return
    entry = entry_at(session, seq, EntryFilter(platform=scope)) if log == LEDGER_LOG else None
    if entry is None or entry.platform_seq is None:
        raise Forbidden(f"you operate platform {scope}; entry {seq} is not one of its events",
                        code="wrong_platform")


def scoped_inclusion(session: Session, log: str, seq: int, tree_size: int,
                     scope: str | None) -> InclusionProof:
    """The proof of entry `seq` in the signed tree of `tree_size` leaves, for a reader limited
    to `scope`'s events (None: every entry). The size is checked first: which sizes are signed
    is public, which entries are another platform's is not."""
    signed_size(session, log, tree_size, "tree_size")
    check_entry_in_scope(session, log, seq, scope)
    return inclusion(session, log, seq, tree_size)


@dataclass(frozen=True)
class EventProof:
    proof: InclusionProof
    checkpoint_note: str  # the latest checkpoint as published, cosignatures included


def event_proof(session: Session, platform: str, event_id: str) -> EventProof:
    """The inclusion proof of a platform's recorded event in the latest checkpoint.

    NotFound when the event is not recorded (a rejected event has no place in the log), and
    NotFound `not_yet_checkpointed` when it is but no checkpoint includes it yet."""
    entry = entry_of_event(session, platform, event_id)
    if entry is None:
        raise NotFound("no event with this id of this platform is recorded (one that was "
                       "rejected is not in the log)")
    proof, checkpoint = inclusion_in_latest(session, LEDGER_LOG, entry.seq)
    (note,) = published_notes(session, [checkpoint])
    return EventProof(proof, note)
