"""Platforms, their seq tracking, and what became of one of their events (SPEC §6, §7).

A platform operator (SPEC §12) sees its own platform only.
"""

from __future__ import annotations

from typing import Any

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.schemas import EventStatusSchema, PlatformListSchema
from ledger.app_context import current_ledger
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.access import platform_scope
from ledger.service.errors import Forbidden, NotFound
from ledger.service.event_status import what_became_of
from ledger.service.platform_seq import platform_overviews

blp = Blueprint("platforms", __name__, description="Township platforms")

READERS = ("admin", "auditor", "platform_operator")


@blp.route("/platforms")
@roles(*READERS)
@blp.response(200, PlatformListSchema)
def list_all() -> dict[str, Any]:
    """Every platform with the highest seq recorded and the gaps below it (a platform
    operator: its own platform)"""
    with current_ledger().sessions() as session:
        overviews = platform_overviews(session, platform_scope(current_principal()))
    items = [{"code": platform.code, "name": platform.name, "township": platform.township,
              "last_seq": platform.last_seq,
              "gaps": [{"first": first, "last": last} for first, last in platform.gaps]}
             for platform in overviews]
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
        found = what_became_of(session, platform, event_id)
    if found is None:
        raise NotFound("no event with this id of this platform is recorded or rejected")
    if isinstance(found, LedgerEntryRow):
        return {"outcome": "recorded", "seq": found.seq, "entry_hash": found.entry_hash,
                "recorded_at": found.recorded_at}
    return {"outcome": "rejected", "reason": found.reason, "detail": found.detail,
            "errors": found.errors or {}, "received_at": found.received_at,
            "rejection_id": found.id}
