"""Reading back the refused events kept with their bytes and reason (SPEC §4.5).

A platform operator's readers pass their own platform: they see that platform's rejections only
(SPEC §12), and nothing here lets them ask for more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ledger.infra.db.models import Rejection
from ledger.service.paging import KEY_MAX, Keyset, Page, read_page


@dataclass(frozen=True)
class RejectionFilter:
    """Which rejections a reader asks for; None leaves a field unfiltered."""

    platform: str | None = None
    reason: str | None = None
    received_from: datetime | None = None  # inclusive
    received_before: datetime | None = None  # exclusive


def rejections_page(session: Session, keyset: Keyset,
                    filters: RejectionFilter = RejectionFilter()) -> Page[Rejection]:
    """One page of rejections in the order they were kept (or newest first), filtered."""
    return read_page(session, _filtered(filters), Rejection.id, keyset)


def rejection_of(session: Session, rejection_id: int,
                 filters: RejectionFilter = RejectionFilter()) -> Rejection | None:
    """One rejection, if it exists and passes `filters` (a reader's scope)."""
    if not 0 < rejection_id <= KEY_MAX:
        return None
    return session.scalars(_filtered(filters).where(Rejection.id == rejection_id)).first()


def latest_rejection_of_event(session: Session, platform: str,
                              event_id: str) -> Rejection | None:
    """What became of an event last time it was refused (a platform may send it again)."""
    return session.scalars(
        select(Rejection).where(Rejection.platform == platform, Rejection.event_id == event_id)
        .order_by(Rejection.id.desc()).limit(1)
    ).first()


def _filtered(filters: RejectionFilter) -> Select[Rejection]:
    statement = select(Rejection)
    if filters.platform is not None:
        statement = statement.where(Rejection.platform == filters.platform)
    if filters.reason is not None:
        statement = statement.where(Rejection.reason == filters.reason)
    if filters.received_from is not None:
        statement = statement.where(Rejection.received_at >= filters.received_from)
    if filters.received_before is not None:
        statement = statement.where(Rejection.received_at < filters.received_before)
    return statement
