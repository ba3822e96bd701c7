"""Inclusion and consistency proofs of the verifiable logs (SPEC §14), read from the stored
tiles in O(log n): a proof never reads every leaf.

A proof is given only up to the size of a signed checkpoint: a tree size nobody signed is a
root nobody can hold the ledger to, so asking for one is an input error naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.contract.merkle import HASH_SIZE_BYTES, HashAt, consistency_proof, inclusion_proof
from ledger.contract.tiles import tile_of_node
from ledger.infra.db.models import CheckpointRow
from ledger.infra.db.tree_store import TileStore
from ledger.service.checkpoints import checkpoint_of_size, latest_checkpoint
from ledger.service.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]

    @property
    def leaf_index(self) -> int:
        return self.seq - 1


def signed_size(session: Session, log: str, size: int, parameter: str) -> CheckpointRow:
    """The checkpoint of `size`, or an input error naming `parameter`."""
    row = checkpoint_of_size(session, log, size)
    if row is None:
        raise InvalidInput(f"{parameter}={size} is not the size of a signed checkpoint",
                           code="not_a_checkpoint_size",
                           errors={parameter: "not the size of a signed checkpoint"})
    return row


def consistency(session: Session, log: str, first: int, second: int) -> list[bytes]:
    """RFC 9162 §2.1.4 proof that the tree of `first` leaves is a prefix of the signed tree of
    `second` leaves."""
    signed_size(session, log, second, "second")
    if not 0 <= first <= second:
        raise InvalidInput(f"first={first} must be between 0 and second={second}",
                           code="bad_range", errors={"first": "must be between 0 and second"})
    return _read_once(TileStore(session, log),
                      lambda hash_at: consistency_proof(first, second, hash_at))


def inclusion(session: Session, log: str, seq: int, tree_size: int) -> InclusionProof:
    """RFC 9162 §2.1.3 proof that entry `seq` (leaf index seq − 1) is in the signed tree of
    `tree_size` leaves."""
    signed_size(session, log, tree_size, "tree_size")
    if not 1 <= seq <= tree_size:
        raise InvalidInput(f"seq={seq} is not in the tree of size {tree_size}",
                           code="bad_range", errors={"seq": "must be between 1 and tree_size"})
    store = TileStore(session, log)
    hashes = _read_once(store, lambda hash_at: [hash_at(0, seq - 1),
                                                *inclusion_proof(seq - 1, tree_size, hash_at)])
    return InclusionProof(seq, tree_size, hashes[0], hashes[1:])


def _read_once(store: TileStore, proof: Callable[[HashAt], list[bytes]]) -> list[bytes]:
    """The proof, its tiles read in one query: a first pass only notes which nodes it needs
    (a proof's shape depends on the sizes, never on the hashes), the second computes it."""
    needed: list[tuple[int, int]] = []

    def note(level: int, index: int) -> bytes:
        tile = tile_of_node(level, index)
        needed.append((tile.level, tile.index))
        return bytes(HASH_SIZE_BYTES)

    proof(note)
    store.prefetch(needed)
    return proof(store.hash_at)


def inclusion_in_latest(session: Session, log: str, seq: int) -> tuple[InclusionProof,
                                                                       CheckpointRow]:
    """The proof of entry `seq` in the latest checkpoint, with that checkpoint; NotFound when
    no checkpoint includes it yet (it is signed within the checkpoint interval)."""
    latest = latest_checkpoint(session, log)
    if latest is None or latest.size < seq:
        raise NotFound(f"entry {seq} is recorded but no signed checkpoint includes it yet; "
                       "ask again after the checkpoint interval", code="not_yet_checkpointed")
    return inclusion(session, log, seq, latest.size), latest
