"""Recompute the whole hash chain from the stored entries (`pointsledger verify`, and the
auditor's `Verify` in the console)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.entry import GENESIS_HASH, next_entry_hash
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.ledger_read import entry_from_row
from ledger.service.paging import SessionScope, key_ordered_batches

# Entries read (and progress told) at a time.
READ_BATCH_SIZE = 2000

# Told (entries checked, entries to check) after every batch, and once at the end.
ProgressCallback = Callable[[int, int], None]


class ChainFault(StrEnum):
    """What is wrong at the first bad seq of a chain (the ledger's or the audit trail's)."""

    MISSING = "missing"  # a seq is absent: a row was deleted
    ALTERED = "altered"  # the row no longer hashes to its entry_hash: it was changed
    UNREADABLE = "unreadable"  # the row cannot even be decoded: changed into something invalid


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    fault: ChainFault | None = None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def audit_chain(session: Session, progress: ProgressCallback | None = None) -> ChainReport:
    """Recompute every entry's hash from the genesis, in the caller's session."""
    return _audit(lambda: nullcontext(session), progress)


def audit_chain_in_steps(sessions: sessionmaker[Session],
                         progress: ProgressCallback | None = None) -> ChainReport:
    """The same, each batch read in a transaction of its own: for a verification that runs
    while the ledger keeps working. (On SQLite every transaction holds the write lock: one
    long read would stop every append, and the writing of its own progress, until it ended.)
    Entries never change once written, so batches read at different moments make one chain.
    """
    return _audit(sessions, progress)


# What a row changed behind the database's back raises when decoded or hashed (a date that is
# not a date, a value JSON cannot hold); connection errors are not among them.
UNREADABLE_ENTRY_ERRORS = (ValueError, TypeError, ArithmeticError)


class _Chain:
    """The chain recomputed so far: the last good seq and its hash."""

    def __init__(self) -> None:
        self.checked = 0
        self.previous = GENESIS_HASH

    def add(self, row: LedgerEntryRow) -> ChainReport | None:
        """The report naming `row` when it breaks the chain; None when it extends it."""
        expected = self.checked + 1
        if row.seq != expected:
            return self.broken(expected, f"seq {expected} is missing (next stored seq is "
                                         f"{row.seq})", ChainFault.MISSING)
        try:
            computed = next_entry_hash(self.previous, entry_from_row(row))
        except UNREADABLE_ENTRY_ERRORS as error:
            return self.unreadable(error)
        if computed.hex() != row.entry_hash:
            return self.broken(row.seq, f"entry {row.seq} does not match its entry_hash",
                               ChainFault.ALTERED)
        self.previous = computed
        self.checked = expected
        return None

    def broken(self, seq: int, problem: str, fault: ChainFault) -> ChainReport:
        return ChainReport(self.checked, self.previous.hex(), seq, problem, fault)

    def unreadable(self, error: Exception) -> ChainReport:
        seq = self.checked + 1
        return self.broken(seq, f"entry {seq} cannot be read: {error}", ChainFault.UNREADABLE)

    def intact(self) -> ChainReport:
        return ChainReport(self.checked, self.previous.hex())


def _audit(scope: SessionScope, progress: ProgressCallback | None) -> ChainReport:
    with scope() as session:
        total = session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0
    chain = _Chain()
    try:
        report = _walk(scope, chain, READ_BATCH_SIZE, total, progress)
    except UNREADABLE_ENTRY_ERRORS:
        # Rows are decoded a batch at a time: read on one at a time to name the bad one.
        with scope() as session:
            session.expunge_all()
        try:
            report = _walk(scope, chain, 1, total, progress)
        except UNREADABLE_ENTRY_ERRORS as error:
            return chain.unreadable(error)
    if progress is not None:
        progress(chain.checked, max(total, chain.checked))
    return report


def _walk(scope: SessionScope, chain: _Chain, batch_size: int, total: int,
          progress: ProgressCallback | None) -> ChainReport:
    statement = select(LedgerEntryRow)
    for rows in key_ordered_batches(scope, statement, LedgerEntryRow.seq, batch_size,
                                    after=chain.checked):
        for row in rows:
            broken = chain.add(row)
            if broken is not None:
                return broken
        if progress is not None:
            # Entries appended since the start are checked too: the total grows with them.
            progress(chain.checked, max(total, chain.checked))
    return chain.intact()
