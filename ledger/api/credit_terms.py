"""Credit terms for the loan system, and the decisions they leave behind (SPEC §8)."""

from __future__ import annotations

import re
from typing import Any

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.problems import ProblemError, invalid_input
from ledger.api.rule_schemas import CreditTermsQuerySchema, CreditTermsSchema, DecisionSchema
from ledger.api.schemas import RESIDENT_PATH_PARAMETER, path_parameter
from ledger.app_context import current_ledger
from ledger.contract.envelope import RESIDENT_PATTERN
from ledger.service.rules import terms

blp = Blueprint("credit_terms", __name__, description="Credit terms and decisions")

ASKERS = ("credit_system", "risk_officer", "auditor")
DECISION_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@blp.route("/residents/<resident:resident>/credit-terms",
           parameters=[RESIDENT_PATH_PARAMETER])
@roles(*ASKERS)
@blp.arguments(CreditTermsQuerySchema, location="query")
@blp.response(200, CreditTermsSchema)
def credit_terms(query: dict[str, Any], resident: str) -> dict[str, Any]:
    """The resident's score, limit uplift and rate discount under the rule set in force at
    as_of, with its explanation; every answer is kept as a decision"""
    if not RESIDENT_PATTERN.fullmatch(resident):
        # Not repeated back: an ID number may have been typed where the pseudonym goes.
        raise invalid_input({"resident": "must be 64 lowercase hex digits"})
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        return terms.credit_terms(session, resident, current_principal().username,
                                  ledger.clock(), query.get("as_of"))


@blp.route("/decisions/<decision_id>", parameters=[
    path_parameter("decision_id", DECISION_ID_PATTERN.pattern, "the decision's id (a UUID)")])
@roles(*ASKERS)
@blp.response(200, DecisionSchema)
def decision(decision_id: str) -> dict[str, Any]:
    """A decision as it was given, and whether recomputing it from the entries up to its
    ledger seq agrees"""
    if not DECISION_ID_PATTERN.fullmatch(decision_id):
        raise ProblemError(404, "not_found", "no such decision")
    with current_ledger().sessions() as session:
        return terms.replay(session, decision_id)
