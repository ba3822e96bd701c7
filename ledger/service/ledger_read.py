"""Reading the ledger back as the world sees it: its head, its entries, one entry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from ledger.domain.entry import GENESIS_HASH, LedgerEntry
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.paging import KEY_MAX, Keyset, Page, read_page

_ENTRY_FIELDS = tuple(LedgerEntry.__dataclass_fields__)


def entry_from_row(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(**{name: getattr(row, name) for name in _ENTRY_FIELDS})


def entry_document_with_hash(row: LedgerEntryRow) -> dict[str, Any]:
    """The entry exactly as GET /ledger/entries returns it: the hashed document plus entry_hash."""
    return {**entry_from_row(row).document(), "entry_hash": row.entry_hash}


@dataclass(frozen=True)
class LedgerHead:
    seq: int
    entry_hash: str
    count: int


def ledger_head(session: Session) -> LedgerHead:
    """The last entry's seq and hash (the genesis hash for an empty ledger), and the count."""
    row = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
        .order_by(LedgerEntryRow.seq.desc()).limit(1)
    ).first()
    if row is None:
        return LedgerHead(0, GENESIS_HASH.hex(), 0)
    # seq is gap-free from 1 (SPEC §6, checked by `pointsledger verify`), so it is the count.
    return LedgerHead(row.seq, row.entry_hash, row.seq)


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a reader asks for; None leaves a field unfiltered."""

    platform: str | None = None
    kind: str | None = None
    recorded_from: datetime | None = None  # inclusive
    recorded_before: datetime | None = None  # exclusive


def entries_page(session: Session, keyset: Keyset,
                 filters: EntryFilter = EntryFilter()) -> Page[LedgerEntryRow]:
    """One page of entries in seq order (or newest first), filtered."""
    return read_page(session, _within_dates(session, _filtered(filters), filters),
                     LedgerEntryRow.seq, keyset)


def platform_events_page(session: Session, platform: str, keyset: Keyset,
                         filters: EntryFilter = EntryFilter()) -> Page[LedgerEntryRow]:
    """One platform's own events in the order of its own seq (SPEC §12: what its operator
    reads), whatever platform `filters` names. The counter's redemptions, the bank's business,
    are not among them. The (platform, platform_seq) index serves this directly, however few
    of the ledger's entries are the platform's."""
    scoped = replace(filters, platform=platform)
    statement = _within_dates(session, _filtered(scoped), scoped).where(
        LedgerEntryRow.platform_seq.is_not(None))
    return read_page(session, statement, LedgerEntryRow.platform_seq, keyset)


def _filtered(filters: EntryFilter) -> Select[LedgerEntryRow]:
    statement = select(LedgerEntryRow)
    if filters.platform is not None:
        statement = statement.where(LedgerEntryRow.platform == filters.platform)
    if filters.kind is not None:
        statement = statement.where(LedgerEntryRow.kind == filters.kind)
    if filters.recorded_from is not None:
        statement = statement.where(LedgerEntryRow.recorded_at >= filters.recorded_from)
    if filters.recorded_before is not None:
        statement = statement.where(LedgerEntryRow.recorded_at < filters.recorded_before)
    return statement


def _within_dates(session: Session, statement: Select[LedgerEntryRow],
                  filters: EntryFilter) -> Select[LedgerEntryRow]:
    """`statement` also bounded by the first and last seq recorded within the dates, when both
    ends are given: the same rows, found without reading the years after them.

    Pages run in seq order, and the planner, which expects the rows of a date range to be
    spread evenly over seq, walks seq from the newest entry until the page is full: years of
    entries for a day long ago (9 s for a day six months back in a county). The bounds come from
    the (recorded_at, seq) index alone, in time proportional to the entries of the range (a
    day of a county: about 10 ms; a week: about 90 ms). They are exact whatever the order in
    which entries were recorded. An open-ended range needs none: from the newest entry on,
    the newest of the range are found first.
    """
    if filters.recorded_from is None or filters.recorded_before is None:
        return statement
    # `+ 0`: the bounds are aggregated over the range's index entries; min(seq) itself would
    # be planned as the walk along seq this avoids.
    offset_seq = LedgerEntryRow.seq + 0
    low, high = session.execute(
        select(func.min(offset_seq), func.max(offset_seq)).where(
            LedgerEntryRow.recorded_at >= filters.recorded_from,
            LedgerEntryRow.recorded_at < filters.recorded_before)).one()
    if low is None:
        return statement.where(false())
    return statement.where(LedgerEntryRow.seq >= low, LedgerEntryRow.seq <= high)


def entry_at(session: Session, seq: int, filters: EntryFilter = EntryFilter()
             ) -> LedgerEntryRow | None:
    """The entry at `seq`, if it exists and passes `filters` (a reader's scope)."""
    if not 0 < seq <= KEY_MAX:
        return None
    return session.scalars(_filtered(filters).where(LedgerEntryRow.seq == seq)).first()


def entry_of_event(session: Session, platform: str, event_id: str) -> LedgerEntryRow | None:
    """The entry a platform's event became, if it was recorded."""
    return session.scalars(select(LedgerEntryRow).where(
        LedgerEntryRow.platform == platform, LedgerEntryRow.event_id == event_id)).first()
