"""Each log's checkpoints as the world reads them (SPEC §14): the signed notes with every
cosignature a witness returned, the latest one or page by page from a size on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ledger.service.checkpoints import checkpoints_after, latest_checkpoint, published_notes
from ledger.service.errors import NotFound
from ledger.service.paging import Keyset, Page


@dataclass(frozen=True)
class PublishedCheckpoint:
    size: int
    root: bytes
    signed_at: datetime
    note: str  # the ledger's signed note with every cosignature gathered


def latest_published(session: Session, log: str) -> PublishedCheckpoint:
    """The log's latest checkpoint; NotFound before the first is signed."""
    row = latest_checkpoint(session, log)
    if row is None:
        raise NotFound(f"no checkpoint of the {log} log is signed yet: the first follows its "
                       "first entry within the checkpoint interval", code="no_checkpoint")
    (note,) = published_notes(session, [row])
    return PublishedCheckpoint(row.size, row.root, row.signed_at, note)


def published_page(session: Session, log: str, keyset: Keyset) -> Page[PublishedCheckpoint]:
    """The checkpoints larger than the cursor (a size), smallest first; `next` is the last
    size of the page when more follow."""
    rows = checkpoints_after(session, log, keyset.cursor or 0, keyset.limit + 1)
    shown = rows[:keyset.limit]
    notes = published_notes(session, shown)
    items = [PublishedCheckpoint(row.size, row.root, row.signed_at, note)
             for row, note in zip(shown, notes, strict=True)]
    return Page(items, shown[-1].size if len(rows) > keyset.limit else None)
