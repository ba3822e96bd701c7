"""The logs' hash tiles and entry bundles as C2SP tlog-tiles serves them (SPEC §14).

What is served, and why:
- A full tile (or full entry bundle) once the tree holds it whole: its bytes never change
  after that, whether or not a checkpoint covers it yet (the spec lets a log serve its tree up
  to its current size, and clients derive the paths they fetch from a checkpoint anyway).
- A partial tile `.p/W` (or partial bundle) only when the latest signed checkpoint covers all
  of its W hashes (entries). Its first W hashes are then fixed for good, so it is as cacheable
  as a full tile; beyond the latest signed size it would hand out hashes no checkpoint vouches
  for yet, of a tree the ledger has not committed itself to, so it is not found.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.contract.canonical_json import canonical_json
from ledger.contract.merkle import HASH_SIZE_BYTES
from ledger.contract.tiles import (
    TILE_WIDTH_HASHES,
    EntryBundle,
    EntryTooLarge,
    Tile,
    encode_entry_bundle,
    is_in_tree,
)
from ledger.domain.entry import entry_canonical_json
from ledger.infra.db.models import AuditEvent, LedgerEntryRow
from ledger.infra.db.tree_store import LEDGER_LOG, TileStore
from ledger.service.audit_trail import record_of
from ledger.service.checkpoints import latest_checkpoint
from ledger.service.errors import Conflict, NotFound
from ledger.service.ledger_read import entry_from_row
from ledger.service.paging import KEY_MAX

FULL_TILE_BYTES = TILE_WIDTH_HASHES * HASH_SIZE_BYTES


def hash_tile(session: Session, log: str, tile: Tile) -> bytes:
    """The tile's bytes: `tile.width` hashes; NotFound when the log cannot serve it (yet)."""
    if tile.index > KEY_MAX:  # beyond any tree the ledger holds, and beyond a BIGINT column
        raise _not_found(tile)
    if tile.is_partial:
        _check_signed(session, log, tile)
    stored = TileStore(session, log).tile(tile.level, tile.index)
    wanted = tile.width * HASH_SIZE_BYTES
    if len(stored) < wanted:
        raise _not_found(tile)
    # A partial tile is the stored tile cut at its width, even once the stored tile has grown
    # (or is full): its first hashes never change.
    return stored[:wanted]


def entry_bundle(session: Session, log: str, bundle: EntryBundle) -> bytes:
    """The bundle's bytes: each entry's JCS bytes (the document its leaf hash is taken of),
    prefixed with its length as a big-endian uint16; NotFound when the log cannot serve it."""
    leaves = bundle.leaf_indexes()
    if leaves.stop > KEY_MAX:
        raise _not_found(bundle)
    if bundle.is_partial:
        _check_signed(session, log, bundle)
    entries = _entries(session, log, leaves.start + 1, leaves.stop)
    if len(entries) != bundle.width:
        raise _not_found(bundle)
    try:
        return encode_entry_bundle(entries)
    except EntryTooLarge as error:
        # Not expected: an event's body is at most 8 KiB, at most doubled by JSON escapes.
        raise Conflict(f"{bundle.path}: {error}; read the entries from the API instead",
                       code="entry_too_large") from None


def _entries(session: Session, log: str, first_seq: int, last_seq: int) -> list[bytes]:
    """The canonical bytes of the entries (or audit events) `first_seq` … `last_seq`."""
    if log == LEDGER_LOG:
        rows = session.scalars(select(LedgerEntryRow).where(
            LedgerEntryRow.seq.between(first_seq, last_seq)).order_by(LedgerEntryRow.seq))
        return [entry_canonical_json(entry_from_row(row)) for row in rows]
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.seq.between(first_seq, last_seq)).order_by(AuditEvent.seq))
    return [canonical_json(record_of(event).document()) for event in events]


def _check_signed(session: Session, log: str, tile: Tile | EntryBundle) -> None:
    latest = latest_checkpoint(session, log)
    if latest is None or not is_in_tree(tile, latest.size):
        raise NotFound(f"{tile.path} is not covered by the latest checkpoint of the {log} log: "
                       "read the checkpoint first and fetch the tiles its size names",
                       code="not_yet_checkpointed")


def _not_found(tile: Tile | EntryBundle) -> NotFound:
    return NotFound(f"the tree does not hold {tile.path} (yet)", code="no_such_tile")
