"""The ledger's own entries (SPEC §6): a redemption at a branch counter and its reversal.

They join the same chain as the platforms' events, under the same lock, one at a time: a
counter serves one resident at a time, and the lock is also what makes "enough points?" and
"take the points" one step when two tellers serve the same resident at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ledger.contract.categories import EntryKind
from ledger.domain.entry import LedgerEntry, leaf_and_entry_hash
from ledger.infra.db.locks import lock_chain_head
from ledger.infra.db.models import Balance, LedgerEntryRow
from ledger.service.projections import ProjectionDeltas
from ledger.service.tree import grow_tree

OWN_KINDS = (EntryKind.REDEEMED, EntryKind.REDEMPTION_REVERSED)


@dataclass(frozen=True)
class Appended:
    seq: int
    entry_hash: str


def lock_ledger(session: Session) -> None:
    """Serialize with every appender; balances read after this are the latest."""
    lock_chain_head(session)


def spendable(session: Session, resident: str, platform: str) -> int:
    row = session.get(Balance, (resident, platform), populate_existing=True)
    return 0 if row is None else row.spendable


def append_own_entry(session: Session, kind: EntryKind, platform: str, resident: str,
                     magnitude: int, now: datetime, redemption_id: str,
                     branch: str) -> Appended:
    """Append one entry at the head of the chain and update the balance, in the caller's
    transaction (which has called `lock_ledger`)."""
    assert kind in OWN_KINDS and magnitude > 0
    head = lock_chain_head(session)
    entry = LedgerEntry(seq=head.seq + 1, kind=kind.value, platform=platform,
                        resident=resident, points=kind.delta_sign * magnitude,
                        occurred_at=now, recorded_at=now, redemption_id=redemption_id,
                        branch=branch)
    leaf_hash, entry_hash_bytes = leaf_and_entry_hash(head.entry_hash, entry)
    entry_hash = entry_hash_bytes.hex()
    session.add(LedgerEntryRow(**entry.__dict__, entry_hash=entry_hash))
    grow_tree(session, entry.seq, [leaf_hash])
    deltas = ProjectionDeltas.empty()
    deltas.add(kind, resident, platform, magnitude, None, now)
    session.flush()
    deltas.write(session)
    return Appended(entry.seq, entry_hash)
