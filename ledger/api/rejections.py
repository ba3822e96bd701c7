"""Refused events, kept with their bytes (ID numbers masked), headers and reason (SPEC §4.5).

A platform operator (SPEC §12) sees its own platform's rejections only.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.context import current_ledger
from ledger.api.pagination import PageRequest, page
from ledger.api.schemas import RejectionPageSchema, RejectionQuerySchema
from ledger.infra.db.models import Rejection
from ledger.service.access import platform_scope

blp = Blueprint("rejections", __name__, description="Refused events")


@blp.route("/rejections")
@roles("auditor", "admin", "platform_operator")
@blp.arguments(RejectionQuerySchema, location="query")
@blp.response(200, RejectionPageSchema)
def list_rejections(query: dict[str, Any]) -> dict[str, Any]:
    """Rejections in the order they were kept; `next` is the last id of the page"""
    asked = PageRequest.of(query)
    statement = select(Rejection).where(Rejection.id > asked.after)
    if "reason" in query:
        statement = statement.where(Rejection.reason == query["reason"])
    scope = platform_scope(current_principal())
    if scope is not None:
        statement = statement.where(Rejection.platform == scope)
    with current_ledger().sessions() as session:
        rows = session.scalars(
            statement.order_by(Rejection.id).limit(asked.rows_to_read)).all()
        return page(rows, asked, key=lambda row: row.id, item=_document)


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
