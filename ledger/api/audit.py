"""The audit trail: who changed rules (and later stock and redemptions), when and why."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ledger.api.access import roles
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageRequest, page_document
from ledger.api.rule_schemas import AuditPageSchema, AuditQuerySchema
from ledger.app_context import current_ledger
from ledger.service.audit_trail import AuditFilter, audit_document, audit_page

blp = Blueprint("audit", __name__, description="The hash-chained audit trail")


@blp.route("/audit")
@roles("auditor", "admin")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
def audit_trail(query: dict[str, Any]) -> Response:
    """Events in seq order with their entry_hash (chained as the ledger is); `next` is the last
    seq of the page; `subject` (e.g. `ruleset:3`) keeps one subject's events"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        found = audit_page(session, asked.keyset, AuditFilter(subject=query.get("subject")))
    # Verbatim, not through a schema: they are the hashed documents.
    return jsonify(page_document(found, audit_document))
