"""The ledger itself: its head and every entry, so an auditor can recompute the chain (SPEC §6)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ledger.api.access import any_role, roles
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageQuerySchema, PageRequest, page_document
from ledger.api.schemas import EntryPageSchema, LedgerHeadSchema
from ledger.app_context import current_ledger
from ledger.service.ledger_read import entries_page, entry_document_with_hash, ledger_head

blp = Blueprint("ledger", __name__, description="The hash-chained ledger")


@blp.route("/ledger/head")
@any_role
@blp.response(200, LedgerHeadSchema)
def head() -> dict[str, Any]:
    """The last entry's seq and hash, and the number of entries"""
    with current_ledger().sessions() as session:
        found = ledger_head(session)
    return {"seq": found.seq, "entry_hash": found.entry_hash, "count": found.count}


@blp.route("/ledger/entries")
@roles("auditor", "admin")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
def entries(query: dict[str, Any]) -> Response:
    """Entries in seq order with their entry_hash; `next` is the last seq of the page"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        found = entries_page(session, asked.keyset)
    # Entries go out verbatim, not through a schema: they are the hashed documents.
    return jsonify(page_document(found, entry_document_with_hash))
