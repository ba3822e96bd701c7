"""What became of one event of a platform: the entry it became, or else its latest rejection
(an event refused and then sent again correctly counts as recorded) (SPEC §7)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.service.ledger_read import entry_of_event
from ledger.service.rejections import latest_rejection_of_event


def what_became_of(session: Session, platform: str,
                   event_id: str) -> LedgerEntryRow | Rejection | None:
    """The entry, else the latest rejection, else None (never heard of)."""
    entry = entry_of_event(session, platform, event_id)
    if entry is not None:
        return entry
    return latest_rejection_of_event(session, platform, event_id)
