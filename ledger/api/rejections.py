"""Refused events, kept with their bytes (ID numbers masked), headers and reason (SPEC §4.5).

A platform operator (SPEC §12) sees its own platform's rejections only.
"""

from __future__ import annotations

import base64
from typing import Any

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageRequest, page_document
from ledger.api.schemas import RejectionPageSchema, RejectionQuerySchema
from ledger.app_context import current_ledger
from ledger.infra.db.models import Rejection
from ledger.service.access import platform_scope
from ledger.service.rejections import RejectionFilter, rejections_page

blp = Blueprint("rejections", __name__, description="Refused events")


@blp.route("/rejections")
@roles("auditor", "admin", "platform_operator")
@blp.arguments(RejectionQuerySchema, location="query")
@blp.response(200, RejectionPageSchema)
def list_rejections(query: dict[str, Any]) -> dict[str, Any]:
    """Rejections in the order they were kept; `next` is the last id of the page"""
    asked = PageRequest.of(query)
    filters = RejectionFilter(platform=platform_scope(current_principal()),
                              reason=query.get("reason"))
    with current_ledger().sessions() as session:
        return page_document(rejections_page(session, asked.keyset, filters), _document)


def _document(rejection: Rejection) -> dict[str, Any]:
    return {
        "id": rejection.id, "received_at": rejection.received_at, "channel": rejection.channel,
        "reason": rejection.reason, "detail": rejection.detail,
        "errors": rejection.errors or {}, "platform": rejection.platform,
        "event_id": rejection.event_id,
        "body_base64": base64.b64encode(rejection.body).decode("ascii"),
        "body_size": rejection.body_size, "body_sha256": rejection.body_sha256,
        "headers": rejection.headers,
    }
