"""Reading the ledger back as the world sees it."""

from __future__ import annotations

from typing import Any

from ledger.domain.entry import LedgerEntry
from ledger.infra.db.models import LedgerEntryRow

_ENTRY_FIELDS = tuple(LedgerEntry.__dataclass_fields__)


def entry_from_row(row: LedgerEntryRow) -> LedgerEntry:
    return LedgerEntry(**{name: getattr(row, name) for name in _ENTRY_FIELDS})


def entry_document_with_hash(row: LedgerEntryRow) -> dict[str, Any]:
    """The entry exactly as GET /ledger/entries returns it: the hashed document plus entry_hash."""
    return {**entry_from_row(row).document(), "entry_hash": row.entry_hash}
