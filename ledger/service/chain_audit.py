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
    previous = GENESIS_HASH
    expected_seq = 1
    rows = session.scalars(
        select(LedgerEntryRow).order_by(LedgerEntryRow.seq).execution_options(
            yield_per=READ_BATCH_SIZE)
    )
    for row in rows:
        if row.seq != expected_seq:
            return ChainReport(expected_seq - 1, previous.hex(), expected_seq,
                               f"seq {expected_seq} is missing (next stored seq is {row.seq})")
        computed = next_entry_hash(previous, entry_from_row(row))
        if computed.hex() != row.entry_hash:
            return ChainReport(expected_seq - 1, previous.hex(), row.seq,
                               f"entry {row.seq} does not match its entry_hash")
        previous = computed
        expected_seq += 1
        session.expunge(row)
    return ChainReport(expected_seq - 1, previous.hex())
