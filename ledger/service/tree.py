"""The ledger's Merkle tree grows with the chain (SPEC §14): in the transaction that appends
the entries, under the chain lock, so its size is always the head `seq`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ledger.infra.db.tree_store import LEDGER_LOG, TileStore


def grow_tree(session: Session, first_seq: int, leaf_hashes: Sequence[bytes]) -> None:
    """Add the leaves of the entries `first_seq`, `first_seq` + 1, … (leaf index = seq − 1)."""
    if leaf_hashes:
        TileStore(session, LEDGER_LOG).grow(first_seq - 1, leaf_hashes)
