"""Recompute the whole hash chain from the stored entries (`pointsledger verify`, and the
auditor's `Verify` in the console), and the Merkle tree over them (SPEC §14): every stored tile
compared with the one the entries give, and the root."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.contract.merkle import HASH_SIZE_BYTES, root_from_stored
from ledger.contract.tiles import TILE_HEIGHT, TILE_WIDTH_HASHES
from ledger.domain.entry import GENESIS_HASH, leaf_and_entry_hash
from ledger.domain.tree_growth import TileBytes, TileGrowth
from ledger.infra.db.models import LedgerEntryRow
from ledger.infra.db.tree_store import LEDGER_LOG, TileStore, TreeHashMissing
from ledger.runtime.progress import ProgressCallback
from ledger.service.ledger_read import entry_from_row
from ledger.service.paging import SessionScope, key_ordered_batches

# Entries read (and progress told) at a time.
READ_BATCH_SIZE = 2000

# Progress is told (entries checked, entries to check) after every batch, and once at the end.


class ChainFault(StrEnum):
    """What is wrong at the first bad seq of a chain (the ledger's or the audit trail's)."""

    MISSING = "missing"  # a seq is absent: a row was deleted
    ALTERED = "altered"  # the row no longer hashes to its entry_hash: it was changed
    UNREADABLE = "unreadable"  # the row cannot even be decoded: changed into something invalid
    # The entries are intact but the Merkle tree's stored hashes are not theirs (a tile altered,
    # deleted or cut short); the seq is the first entry under the first hash that differs.
    TREE = "tree"


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    fault: ChainFault | None = None
    # The Merkle root of the first `entries` entries, recomputed from them (hex).
    root: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def audit_chain(session: Session, progress: ProgressCallback | None = None) -> ChainReport:
    """Recompute every entry's hash from the genesis, and the Merkle tree, in the caller's
    session."""
    return _audit(lambda: nullcontext(session), progress, check_tree=True)


def audit_chain_in_steps(sessions: sessionmaker[Session],
                         progress: ProgressCallback | None = None,
                         check_tree: bool = False) -> ChainReport:
    """The same, each batch read in a transaction of its own: for a verification that runs
    while the ledger keeps working. (On SQLite every transaction holds the write lock: one
    long read would stop every append, and the writing of its own progress, until it ended.)
    Entries never change once written, so batches read at different moments make one chain;
    full tiles never change either, and a partial one only grows.

    The console's `Verify` leaves the stored tree out until its page has words for a tree
    fault (`check_tree`); the root it reports is still the one the entries give.
    """
    return _audit(sessions, progress, check_tree)


# What a row changed behind the database's back raises when decoded or hashed (a date that is
# not a date, a value JSON cannot hold); connection errors are not among them.
UNREADABLE_ENTRY_ERRORS = (ValueError, TypeError, ArithmeticError)


class _Chain:
    """The chain recomputed so far: the last good seq and its hash, and the tree over it."""

    def __init__(self) -> None:
        self.checked = 0
        self.previous = GENESIS_HASH
        self.tree = TileGrowth()

    def add(self, row: LedgerEntryRow) -> ChainReport | None:
        """The report naming `row` when it breaks the chain; None when it extends it."""
        expected = self.checked + 1
        if row.seq != expected:
            return self.broken(expected, f"seq {expected} is missing (next stored seq is "
                                         f"{row.seq})", ChainFault.MISSING)
        try:
            leaf, computed = leaf_and_entry_hash(self.previous, entry_from_row(row))
        except UNREADABLE_ENTRY_ERRORS as error:
            return self.unreadable(error)
        if computed.hex() != row.entry_hash:
            return self.broken(row.seq, f"entry {row.seq} does not match its entry_hash",
                               ChainFault.ALTERED)
        self.previous = computed
        self.checked = expected
        self.tree.append(leaf)
        return None

    def broken(self, seq: int, problem: str, fault: ChainFault) -> ChainReport:
        return ChainReport(self.checked, self.previous.hex(), seq, problem, fault,
                           self.tree.frontier.root().hex())

    def unreadable(self, error: Exception) -> ChainReport:
        seq = self.checked + 1
        return self.broken(seq, f"entry {seq} cannot be read: {error}", ChainFault.UNREADABLE)

    def intact(self) -> ChainReport:
        return ChainReport(self.checked, self.previous.hex(), root=self.tree.frontier.root().hex())

    def tree_differs(self, level: int, index: int, expected: bytes, stored: bytes
                     ) -> ChainReport:
        """The report naming the first hash of tile (level, index) that is not the entries'."""
        position = next((i for i in range(len(expected) // HASH_SIZE_BYTES)
                         if stored[i * HASH_SIZE_BYTES:(i + 1) * HASH_SIZE_BYTES]
                         != expected[i * HASH_SIZE_BYTES:(i + 1) * HASH_SIZE_BYTES]), 0)
        node = index * TILE_WIDTH_HASHES + position
        seq = (node << (TILE_HEIGHT * level)) + 1
        what = "is missing" if not stored else (
            f"holds {len(stored) // HASH_SIZE_BYTES} hashes, not the entries' "
            f"{len(expected) // HASH_SIZE_BYTES}" if len(stored) < len(expected)
            else f"differs at hash {position}")
        return ChainReport(self.checked, self.previous.hex(), seq,
                           f"the Merkle tree's stored hashes differ from the entries: tile "
                           f"{level}/{index} {what} (entries from seq {seq})",
                           ChainFault.TREE, self.tree.frontier.root().hex())


def _audit(scope: SessionScope, progress: ProgressCallback | None,
           check_tree: bool) -> ChainReport:
    with scope() as session:
        total = session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0
    chain = _Chain()
    try:
        report = _walk(scope, chain, READ_BATCH_SIZE, total, progress, check_tree)
    except UNREADABLE_ENTRY_ERRORS:
        # Rows are decoded a batch at a time: read on one at a time to name the bad one.
        with scope() as session:
            session.expunge_all()
        try:
            report = _walk(scope, chain, 1, total, progress, check_tree)
        except UNREADABLE_ENTRY_ERRORS as error:
            return chain.unreadable(error)
    if progress is not None:
        progress(chain.checked, max(total, chain.checked))
    if report.intact and check_tree:
        return _check_tree_edge(scope, chain) or report
    return report


def _walk(scope: SessionScope, chain: _Chain, batch_size: int, total: int,
          progress: ProgressCallback | None, check_tree: bool) -> ChainReport:
    statement = select(LedgerEntryRow)
    for rows in key_ordered_batches(scope, statement, LedgerEntryRow.seq, batch_size,
                                    after=chain.checked):
        for row in rows:
            broken = chain.add(row)
            if broken is not None:
                return broken
        full_tiles = chain.tree.take_full_tiles()
        if check_tree:
            differs = _compare_tiles(scope, chain, full_tiles, whole=True)
            if differs is not None:
                return differs
        if progress is not None:
            # Entries appended since the start are checked too: the total grows with them.
            progress(chain.checked, max(total, chain.checked))
    return chain.intact()


def _compare_tiles(scope: SessionScope, chain: _Chain, tiles: list[TileBytes],
                   whole: bool) -> ChainReport | None:
    """The report on the first of `tiles` the store holds otherwise; a partial one (`whole`
    false) may have grown since with entries not walked yet: only its start is compared."""
    if not tiles:
        return None
    with scope() as session:
        store = TileStore(session, LEDGER_LOG)
        store.prefetch([(level, index) for level, index, _ in tiles])
        for level, index, expected in tiles:
            stored = store.tile(level, index)
            if (stored if whole else stored[:len(expected)]) != expected:
                return chain.tree_differs(level, index, expected, stored)
    return None


def _check_tree_edge(scope: SessionScope, chain: _Chain) -> ChainReport | None:
    """After every full tile: the partial tiles, then the root the stored tree gives."""
    growth = chain.tree
    partial = [(level, growth.first_index(level) // TILE_WIDTH_HASHES, b"".join(hashes))
               for level, hashes in enumerate(growth.gained) if hashes]
    differs = _compare_tiles(scope, chain, partial, whole=False)
    if differs is not None:
        return differs
    computed = growth.frontier.root()
    with scope() as session:
        try:
            stored = root_from_stored(chain.checked, TileStore(session, LEDGER_LOG).hash_at)
        except TreeHashMissing as error:  # cannot be, once every tile compared: say it all the same
            return chain.broken(chain.checked, f"the Merkle tree's stored hashes differ from the "
                                f"entries: {error}", ChainFault.TREE)
    if stored != computed:
        return chain.broken(chain.checked, f"the Merkle tree's stored hashes differ from the "
                            f"entries: root {stored.hex()} stored, {computed.hex()} from the "
                            f"entries", ChainFault.TREE)
    return None
