"""A resident's balances and entries, by pseudonym (SPEC §6, §7), as the API and the counter's
page read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.infra.db.models import Balance, LedgerEntryRow

# The counter shows a resident's latest entries, not their whole history.
RECENT_ENTRIES_DEFAULT = 20


def balances(session: Session, resident: str) -> list[dict[str, Any]]:
    """Per platform, in platform order; a resident without entries has none."""
    rows = session.scalars(
        select(Balance).where(Balance.resident == resident).order_by(Balance.platform))
    return [{"platform": row.platform, "spendable": row.spendable, "earned": row.earned,
             "deducted": row.deducted, "revoked": row.revoked, "redeemed": row.redeemed}
            for row in rows]


def entries(session: Session, resident: str, after: int, rows: int) -> list[LedgerEntryRow]:
    """Up to `rows` of the resident's entries with `seq` above `after`, in `seq` order."""
    return list(session.scalars(
        select(LedgerEntryRow)
        .where(LedgerEntryRow.resident == resident, LedgerEntryRow.seq > after)
        .order_by(LedgerEntryRow.seq).limit(rows)))


def recent_entries(session: Session, resident: str,
                   rows: int = RECENT_ENTRIES_DEFAULT) -> list[LedgerEntryRow]:
    """The resident's latest `rows` entries, newest first (the index on resident and seq
    serves it backwards)."""
    return list(session.scalars(
        select(LedgerEntryRow).where(LedgerEntryRow.resident == resident)
        .order_by(LedgerEntryRow.seq.desc()).limit(rows)))
