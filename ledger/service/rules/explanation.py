"""A resident's credit terms explained to the resident (SPEC §13, PIPL Article 24).

The terms and what counted are the decision `terms.credit_terms` gives and keeps (so that the
paper handed over the counter can be replayed later, by its decision id); this adds what the
resident would need for better terms: the next tier's conditions and how far they are from each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain.next_tier import NextTier, Standing, next_tier
from ledger.infra.db.models import RuleSetVersion
from ledger.service.rules import terms
from ledger.service.rules.versions import parsed_ruleset


def explain_terms(session: Session, resident: str, asked_by: str, now: datetime
                  ) -> dict[str, Any]:
    """The resident's terms now, kept as a decision, with the next tier (see `with_next_tier`).
    Raises Conflict when no rule set is active."""
    return with_next_tier(session, terms.credit_terms(session, resident, asked_by, now))


def with_next_tier(session: Session, answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` (credit terms or a decision) with the rule set's name, its number of tiers and
    `next_tier`: None at the best terms, else `{index, limit_uplift_cny, rate_discount_bp,
    requirements: [{condition, required, current, short_by, met}]}`."""
    version = session.get(RuleSetVersion, answer["ruleset_version"])
    assert version is not None  # a decision's version is a foreign key
    rules = parsed_ruleset(version.document)
    standing = Standing(answer["score"], answer["active_months"], answer["deductions"])
    found = next_tier(rules, answer["tier"], standing)
    return {**answer, "ruleset_name": rules.name, "tiers": len(rules.tiers),
            "next_tier": None if found is None else next_tier_document(found)}


def next_tier_document(found: NextTier) -> dict[str, Any]:
    return {"index": found.index, "limit_uplift_cny": found.limit_uplift_cny,
            "rate_discount_bp": found.rate_discount_bp,
            "requirements": [{"condition": requirement.condition,
                              "required": requirement.required,
                              "current": requirement.current,
                              "short_by": requirement.short_by, "met": requirement.met}
                             for requirement in found.requirements]}
