"""The logs' Merkle trees grow with their chains (SPEC §14): in the transaction that appends the
entries, under the chain lock, so a tree's size is always its log's head `seq`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.entry import leaf_hash
from ledger.infra.db.models import AuditEvent
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG, TileStore
from ledger.service.audit_trail import lock_audit_trail, record_of

CATCH_UP_CHUNK_EVENTS = 5000


def grow_tree(session: Session, first_seq: int, leaf_hashes: Sequence[bytes]) -> None:
    """Add the leaves of the entries `first_seq`, `first_seq` + 1, … (leaf index = seq − 1)."""
    if leaf_hashes:
        TileStore(session, LEDGER_LOG).grow(first_seq - 1, leaf_hashes)


def catch_up_audit_tree(session: Session) -> int:
    """Grow the audit log's tree over events written around `append_audit` (a bulk load of
    history, as `bench console` writes); the tree's size after."""
    lock_audit_trail(session)
    store = TileStore(session, AUDIT_LOG)
    size = store.size()
    while rows := list(session.scalars(
            select(AuditEvent).where(AuditEvent.seq > size).order_by(AuditEvent.seq)
            .limit(CATCH_UP_CHUNK_EVENTS))):
        store.grow(size, [leaf_hash(record_of(row).document()) for row in rows])
        size += len(rows)
        session.expunge_all()
    return size
