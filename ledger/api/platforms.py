"""Platforms, their seq tracking, and what became of one of their events (SPEC §6, §7).

A platform operator (SPEC §12) sees its own platform only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.context import current_ledger
from ledger.api.schemas import EventStatusSchema, PlatformListSchema
from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.service.access import platform_scope
from ledger.service.errors import Forbidden, NotFound
from ledger.service.platform_seq import gaps_of
from ledger.service.registry import list_platforms

blp = Blueprint("platforms", __name__, description="Township platforms")

READERS = ("admin", "auditor", "platform_operator")


@blp.route("/platforms")
@roles(*READERS)
@blp.response(200, PlatformListSchema)
def list_all() -> dict[str, Any]:
    """Every platform with the highest seq recorded and the gaps below it (a platform
    operator: its own platform)"""
    scope = platform_scope(current_principal())
    with current_ledger().sessions() as session:
        items = [
            {"code": platform.code, "name": platform.name, "township": platform.township,
             "last_seq": platform.last_seq,
             "gaps": [{"first": first, "last": last}
                      for first, last in gaps_of(session, platform.code)]}
            for platform in list_platforms(session)
            if scope is None or platform.code == scope
        ]
    return {"items": items, "next": None}


@blp.route("/platforms/<platform>/events/<event_id>")
@roles(*READERS)
@blp.response(200, EventStatusSchema)
@blp.alt_response(404, response="NOT_FOUND")
def event_status(platform: str, event_id: str) -> dict[str, Any]:
    """What became of one event: recorded, or its latest rejection (a platform operator:
    events of its own platform only)"""
    scope = platform_scope(current_principal())
    if scope is not None and scope != platform:
        raise Forbidden(f"you operate platform {scope}, not this one", code="wrong_platform")
    with current_ledger().sessions() as session:
        recorded = _recorded(session, platform, event_id)
        if recorded is not None:
            return recorded
        rejected = _latest_rejection(session, platform, event_id)
        if rejected is not None:
            return rejected
    raise NotFound("no event with this id of this platform is recorded or rejected")


def _recorded(session: Session, platform: str, event_id: str) -> dict[str, Any] | None:
    row = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash, LedgerEntryRow.recorded_at)
        .where(LedgerEntryRow.platform == platform, LedgerEntryRow.event_id == event_id)
    ).first()
    if row is None:
        return None
    return {"outcome": "recorded", "seq": row.seq, "entry_hash": row.entry_hash,
            "recorded_at": row.recorded_at}


def _latest_rejection(session: Session, platform: str, event_id: str) -> dict[str, Any] | None:
    rejection = session.scalars(
        select(Rejection).where(Rejection.platform == platform, Rejection.event_id == event_id)
        .order_by(Rejection.id.desc()).limit(1)
    ).first()
    if rejection is None:
        return None
    return {"outcome": "rejected", "reason": rejection.reason, "detail": rejection.detail,
            "errors": rejection.errors or {}, "received_at": rejection.received_at,
            "rejection_id": rejection.id}
