"""A resident's terms explained (SPEC §13, PIPL Art. 24): the terms are kept as a decision that
replays the same, with what the next tier asks; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ledger.bootstrap import Ledger
from ledger.service.errors import Conflict
from ledger.service.rules import terms
from ledger.service.rules.explanation import explain_terms, with_next_tier
from tests.rules.support import activate, now, platforms, spec_document
from tests.rules.test_credit_terms import Feed
from tests.support import RESIDENT_A


@pytest.fixture
def feed(ledger: Ledger) -> Feed:
    return Feed(ledger, platforms(ledger))


def _explain(ledger: Ledger) -> dict[str, object]:
    with ledger.sessions.begin() as session:
        return explain_terms(session, RESIDENT_A, "li.teller", now())


def test_the_explanation_is_a_kept_decision_with_the_next_tier(ledger: Ledger,
                                                                feed: Feed) -> None:
    version = activate(ledger, spec_document())
    moment = now().isoformat(timespec="seconds")
    feed.send("lijiayuan", moment, 25, "safety_patrol")  # 25 × 2.0: score 50

    explained = _explain(ledger)

    assert (explained["score"], explained["tier"], explained["tiers"]) == (50, 2, 3)
    assert explained["ruleset_version"] == version
    assert explained["ruleset_name"] == "Contribution credit policy 2026-Q4"
    assert explained["next_tier"] == {
        "index": 1, "limit_uplift_cny": 20000, "rate_discount_bp": 5,
        "requirements": [{"condition": "min_score", "required": 100, "current": 50,
                          "short_by": 50, "met": False}]}
    with ledger.sessions() as session:
        replayed = with_next_tier(session, terms.replay(session, str(explained["decision_id"])))
    assert replayed["agrees"] is True
    assert replayed["asked_by"] == "li.teller"
    assert replayed["next_tier"] == explained["next_tier"]


def test_without_an_active_rule_set_there_is_nothing_to_explain(ledger: Ledger) -> None:
    with pytest.raises(Conflict):
        _explain(ledger)
