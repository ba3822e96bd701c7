"""Credit terms for the loan system, kept as decisions that can be replayed (SPEC §8).

An answer is computed in one consistent snapshot of the database: the ledger head it read (its
`ledger_seq`) and the monthly contribution belong to the same moment. Each answer is kept; a
replay recomputes it from the entries up to that seq, under the same version and as_of, so
events that arrive later never change what an earlier decision says.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.entry import rfc3339_utc
from ledger.domain.ruleset import Conditions, RuleSet
from ledger.domain.scoring import Score, choose_terms, compute_score, window
from ledger.infra.db.models import Decision, LedgerEntryRow, RuleSetVersion
from ledger.runtime.metrics import DECISIONS
from ledger.service.counted_on_commit import count_on_commit
from ledger.service.errors import Conflict, InvalidInput, NotFound
from ledger.service.rules.contribution import month_rows
from ledger.service.rules.versions import parsed_ruleset, version_in_force
from ledger.service.snapshot import read_snapshot

# A caller's clock may run a little ahead of ours: an as_of that close to now counts as now.
AS_OF_FUTURE_TOLERANCE_S = 60


def credit_terms(session: Session, resident: str, asked_by: str, now: datetime,
                 as_of: datetime | None = None) -> dict[str, Any]:
    """The terms for `resident` under the version active now, over the window ending at
    `as_of` (default now), kept as a decision. `as_of` moves the window and the entries that
    count, not the rules: a past answer under the rules of its day is its decision."""
    as_of = _checked_as_of(as_of, now)
    read_snapshot(session)
    state = version_in_force(session, now)
    if state is None:
        raise Conflict("no rule set is active: terms need an approved rule set",
                       code="no_active_ruleset")
    ledger_seq = session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0
    answer = compute_answer(session, resident, as_of, ledger_seq, state.version,
                            state.row.document_sha256, state.rules)
    decision_id = str(uuid.uuid4())
    session.add(Decision(id=decision_id, resident=resident, as_of=as_of, ledger_seq=ledger_seq,
                         ruleset_version=state.version,
                         ruleset_sha256=state.row.document_sha256, asked_by=asked_by,
                         asked_at=now, answer=answer))
    count_on_commit(session, DECISIONS.inc)
    return {**answer, "decision_id": decision_id}


def replay(session: Session, decision_id: str) -> dict[str, Any]:
    """The decision as it was given, and whether recomputing it now gives the same answer."""
    read_snapshot(session)
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"decision {decision_id} does not exist")
    version = session.get(RuleSetVersion, decision.ruleset_version)
    assert version is not None  # a foreign key
    recomputed = compute_answer(session, decision.resident, decision.as_of,
                                decision.ledger_seq, version.version,
                                version.document_sha256, parsed_ruleset(version.document))
    agrees = recomputed == decision.answer
    document: dict[str, Any] = {
        **decision.answer, "decision_id": decision.id, "asked_by": decision.asked_by,
        "asked_at": rfc3339_utc(decision.asked_at), "agrees": agrees}
    if not agrees:
        document["recomputed"] = recomputed
    return document


def compute_answer(session: Session, resident: str, as_of: datetime, ledger_seq: int,
                   version: int, sha256: str, rules: RuleSet) -> dict[str, Any]:
    months = window(as_of, rules.window_months)
    rows = month_rows(session, resident, months, as_of, ledger_seq)
    score = compute_score(rules, rows, as_of)
    terms = choose_terms(rules, score)
    return {
        "resident": resident,
        "as_of": rfc3339_utc(as_of),
        "ledger_seq": ledger_seq,
        "ruleset_version": version,
        "ruleset_sha256": sha256,
        "score": score.score,
        "active_months": score.active_months,
        "deductions": score.deductions,
        "tier": terms.tier,
        "limit_uplift_cny": terms.limit_uplift_cny,
        "rate_discount_bp": terms.rate_discount_bp,
        "explanation": _explanation(rules, score, months, terms.tier),
    }


def _explanation(rules: RuleSet, score: Score, months: list[str], tier_index: int
                 ) -> dict[str, Any]:
    tier = rules.tiers[tier_index]
    caps = rules.caps
    return {
        "window": {"months": rules.window_months, "from": months[0], "to": months[-1]},
        "categories": [
            {"platform": line.platform, "category": line.category, "points": line.points,
             "capped_points": line.capped_points,
             "monthly_cap": _monthly_cap(rules, line.category),
             "category_weight": decimal_text(line.category_weight),
             "platform_weight": decimal_text(line.platform_weight),
             "contribution": decimal_text(line.contribution)}
            # A month with only deductions (or only revoked awards) leaves a line of zeros.
            for line in score.categories if line.points or line.capped_points],
        "deductions": [
            {"platform": line.platform, "points": line.points,
             "deduction_weight": decimal_text(line.deduction_weight),
             "platform_weight": decimal_text(line.platform_weight),
             "contribution": decimal_text(line.contribution)}
            for line in score.deduction_lines],
        "tier": {"index": tier_index, "when": conditions_document(tier.when),
                 "limit_uplift_cny": tier.limit_uplift_cny,
                 "rate_discount_bp": tier.rate_discount_bp},
        "caps": {"limit_uplift_cny_max": caps.limit_uplift_cny_max,
                 "rate_discount_bp_max": caps.rate_discount_bp_max,
                 "applied": (tier.limit_uplift_cny > caps.limit_uplift_cny_max
                             or tier.rate_discount_bp > caps.rate_discount_bp_max)},
    }


def conditions_document(when: Conditions) -> dict[str, int]:
    raw = {"min_score": when.min_score, "min_active_months": when.min_active_months,
           "max_deductions": when.max_deductions}
    return {name: value for name, value in raw.items() if value is not None}


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros ("1.5", "-3", "0")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _monthly_cap(rules: RuleSet, category: str) -> int | None:
    for known, rule in rules.categories.items():
        if known.value == category:
            return rule.monthly_cap
    return None


def _checked_as_of(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    if as_of.tzinfo is None:
        raise InvalidInput("as_of needs a UTC offset",
                           errors={"as_of": "must be RFC 3339 with an offset"})
    if (as_of - now).total_seconds() > AS_OF_FUTURE_TOLERANCE_S:
        raise InvalidInput("as_of is in the future",
                           errors={"as_of": "must not be in the future"})
    return min(as_of, now)
