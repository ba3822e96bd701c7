"""Platforms, their seq tracking, what became of one of their events and its inclusion proof,
and their keys' history (SPEC §6, §7, §14).

A platform operator (SPEC §12) sees its own platform only.
"""

from __future__ import annotations

from typing import Any

from ledger.api.access import current_principal, roles
from ledger.api.admin_schemas import PLATFORM_PATH_PARAMETER
from ledger.api.blueprint import Blueprint
from ledger.api.log_schemas import EventProofSchema, PlatformKeyPageSchema
from ledger.api.schemas import EventStatusSchema, PlatformListSchema
from ledger.api.verifiable_log import inclusion_document
from ledger.app_context import current_ledger
from ledger.contract.webhook import encode_public_key
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.access import platform_scope
from ledger.service.entry_proofs import event_proof
from ledger.service.errors import Forbidden, NotFound
from ledger.service.event_status import what_became_of
from ledger.service.platform_seq import platform_overviews
from ledger.service.registry import keys_of, platform_of

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
    _check_scope(platform)
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


@blp.route("/platforms/<platform>/events/<event_id>/proof")
@roles(*READERS)
@blp.response(200, EventProofSchema)
@blp.alt_response(404, response="NOT_FOUND")
def event_inclusion(platform: str, event_id: str) -> dict[str, Any]:
    """The inclusion proof of a recorded event in the latest checkpoint, with that checkpoint
    (SPEC §14); 404 `not_yet_checkpointed` while no checkpoint includes it yet"""
    _check_scope(platform)
    with current_ledger().sessions() as session:
        found = event_proof(session, platform, event_id)
    return {**inclusion_document(found.proof), "checkpoint": found.checkpoint_note}


@blp.route("/platforms/<platform>/keys", parameters=[PLATFORM_PATH_PARAMETER])
@roles(*READERS)
@blp.response(200, PlatformKeyPageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def keys(platform: str) -> dict[str, Any]:
    """Every key the platform has had, oldest first, with when it was added, retired and
    declared compromised: what re-verifying old events' signatures needs (`audit --full`)"""
    _check_scope(platform)
    with current_ledger().sessions() as session:
        platform_of(session, platform)
        items = [{"key_id": key.key_id, "platform": key.platform,
                  "public_key": encode_public_key(key.public_key), "added_at": key.created_at,
                  "revoked_at": key.revoked_at, "compromised_at": key.compromised_at}
                 for key in keys_of(session, platform)]
    return {"items": items, "next": None}


def _check_scope(platform: str) -> None:
    """A platform operator reads its own platform only; whether another's event or key
    exists is not told either."""
    scope = platform_scope(current_principal())
    if scope is not None and scope != platform:
        raise Forbidden(f"you operate platform {scope}, not this one", code="wrong_platform")
