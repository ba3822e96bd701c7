"""Residents: pseudonym lookup at the counter, balances and entries (SPEC §4.4, §6, §7).

The ID number only passes through memory to compute the pseudonym: it is never stored, logged
or repeated in an answer, not even in an error.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ledger.api.access import roles
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageQuerySchema, PageRequest, page
from ledger.api.problems import invalid_input
from ledger.api.schemas import (
    RESIDENT_PATH_PARAMETER,
    EntryPageSchema,
    ResidentBalancesSchema,
    ResidentLookupSchema,
    ResidentSchema,
)
from ledger.app_context import current_ledger
from ledger.contract.envelope import RESIDENT_PATTERN
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.service import residents
from ledger.service.ledger_read import entry_document_with_hash

blp = Blueprint("residents", __name__, description="Residents, by pseudonym")

READERS = ("teller", "supervisor", "risk_officer", "auditor")


@blp.route("/residents/lookup", methods=["POST"])
@roles("teller", "supervisor", "risk_officer", "credit_system")
@blp.arguments(ResidentLookupSchema)
@blp.response(200, ResidentSchema)
def lookup(document: dict[str, Any]) -> dict[str, Any]:
    """The pseudonym of a resident ID number"""
    try:
        resident = pseudonym(document["id_number"], current_ledger().settings.resident_pepper)
    except InvalidIdNumber as error:
        # The message of InvalidIdNumber never contains the number itself.
        raise invalid_input({"id_number": str(error)},
                            "the ID number is not a valid resident ID number") from None
    return {"resident": resident}


@blp.route("/residents/<resident:resident>", parameters=[RESIDENT_PATH_PARAMETER])
@roles(*READERS)
@blp.response(200, ResidentBalancesSchema)
def balances(resident: str) -> dict[str, Any]:
    """Balances per platform; a resident without entries has none"""
    _check_resident(resident)
    with current_ledger().sessions() as session:
        return {"resident": resident, "balances": residents.balances(session, resident)}


@blp.route("/residents/<resident:resident>/entries",
           parameters=[RESIDENT_PATH_PARAMETER])
@roles(*READERS)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
def entries(query: dict[str, Any], resident: str) -> Response:
    """The resident's entries in seq order; `next` is the last seq of the page"""
    _check_resident(resident)
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        rows = residents.entries(session, resident, asked.after, asked.rows_to_read)
    # Entries go out verbatim, not through a schema: they are the hashed documents.
    return jsonify(page(rows, asked, key=lambda row: row.seq, item=entry_document_with_hash))


def _check_resident(resident: str) -> None:
    if not RESIDENT_PATTERN.fullmatch(resident):
        # Not repeated back: a teller may have typed an ID number where the pseudonym goes.
        raise invalid_input({"resident": "must be 64 lowercase hex digits"})
