"""Recompute the whole hash chain from the stored entries (`pointsledger verify`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.entry import GENESIS_HASH, next_entry_hash
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.ledger_read import entry_from_row

READ_BATCH_SIZE = 2000


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def audit_chain(session: Session) -> ChainReport:
    try:
        return _audit(session, READ_BATCH_SIZE)
    except UNREADABLE_ENTRY_ERRORS:
        # Rows are decoded a batch at a time: read again one at a time to name the bad one.
        session.expunge_all()
        return _audit(session, 1)


# What a row changed behind the database's back raises when decoded or hashed (a date that is
# not a date, a value JSON cannot hold); connection errors are not among them.
UNREADABLE_ENTRY_ERRORS = (ValueError, TypeError, ArithmeticError)


def _audit(session: Session, batch_size: int) -> ChainReport:
    previous = GENESIS_HASH
    expected_seq = 1
    try:
        # A server-side cursor on PostgreSQL: closed on the way out, also when stopping early.
        with session.scalars(
            select(LedgerEntryRow).order_by(LedgerEntryRow.seq).execution_options(
                yield_per=batch_size)
        ) as rows:
            for row in rows:
                if row.seq != expected_seq:
                    return ChainReport(
                        expected_seq - 1, previous.hex(), expected_seq,
                        f"seq {expected_seq} is missing (next stored seq is {row.seq})")
                computed = next_entry_hash(previous, entry_from_row(row))
                if computed.hex() != row.entry_hash:
                    return ChainReport(expected_seq - 1, previous.hex(), row.seq,
                                       f"entry {row.seq} does not match its entry_hash")
                previous = computed
                expected_seq += 1
                session.expunge(row)
    except UNREADABLE_ENTRY_ERRORS as error:
        if batch_size != 1:
            raise
        session.expunge_all()
        return ChainReport(expected_seq - 1, previous.hex(), expected_seq,
                           f"entry {expected_seq} cannot be read: {error}")
    return ChainReport(expected_seq - 1, previous.hex())
