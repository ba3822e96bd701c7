"""The ledger itself: its head and every entry, so an auditor can recompute the chain (SPEC §6)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from sqlalchemy import select

from ledger.api.access import any_role, roles
from ledger.api.blueprint import Blueprint
from ledger.api.context import current_ledger
from ledger.api.pagination import PageQuerySchema, PageRequest, page
from ledger.api.schemas import EntryPageSchema, LedgerHeadSchema
from ledger.domain.entry import GENESIS_HASH
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.ledger_read import entry_document_with_hash

blp = Blueprint("ledger", __name__, description="The hash-chained ledger")


@blp.route("/ledger/head")
@any_role
@blp.response(200, LedgerHeadSchema)
def head() -> dict[str, Any]:
    """The last entry's seq and hash, and the number of entries"""
    with current_ledger().sessions() as session:
        row = session.execute(
            select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
            .order_by(LedgerEntryRow.seq.desc()).limit(1)
        ).first()
    if row is None:
        return {"seq": 0, "entry_hash": GENESIS_HASH.hex(), "count": 0}
    # seq is gap-free from 1 (SPEC §6, checked by `pointsledger verify`), so it is the count.
    return {"seq": row.seq, "entry_hash": row.entry_hash, "count": row.seq}


@blp.route("/ledger/entries")
@roles("auditor", "admin")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
def entries(query: dict[str, Any]) -> Response:
    """Entries in seq order with their entry_hash; `next` is the last seq of the page"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        rows = session.scalars(
            select(LedgerEntryRow).where(LedgerEntryRow.seq > asked.after)
            .order_by(LedgerEntryRow.seq).limit(asked.rows_to_read)
        ).all()
    # Entries go out verbatim, not through a schema: they are the hashed documents.
    return jsonify(page(rows, asked, key=lambda row: row.seq, item=entry_document_with_hash))
