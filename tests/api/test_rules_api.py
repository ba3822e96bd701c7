"""Rules over HTTP (SPEC §7, §8): a risk officer drafts a change and sees its impact, a colleague
approves it, and the loan system at once gets explained terms under the new version."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.domain.ruleset import document_sha256
from ledger.service import access
from tests.api.support import Tokens, bearer
from tests.rules.test_credit_terms import Feed
from tests.rules.test_ruleset_document import SPEC_EXAMPLE
from tests.support import RESIDENT_A, register_platform

API = "/api/v1"


class Officers:
    def __init__(self, tokens: Tokens, colleague: str) -> None:
        self.author = bearer(tokens.by_role["risk_officer"])
        self.approver = bearer(colleague)
        self.loan_system = bearer(tokens.by_role["credit_system"])
        self.auditor = bearer(tokens.by_role["auditor"])
        self.teller = bearer(tokens.by_role["teller"])


@pytest.fixture
def officers(ledger: Ledger, tokens: Tokens) -> Officers:
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        access.add_user(session, "risk-colleague", "risk_officer", None, now)
        colleague, _ = access.create_token(session, "risk-colleague", now)
    return Officers(tokens, colleague)


@pytest.fixture
def feed(ledger: Ledger) -> Feed:
    by_code = {code: register_platform(ledger.sessions, code)
               for code in ("lijiayuan", "nanyang_young", "wuhe_zhonglian")}
    feed = Feed(ledger, by_code)
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    feed.send("lijiayuan", f"{last_month}-03T21:00:00+08:00", 40, "safety_patrol")
    feed.send("lijiayuan", f"{last_month}-04T09:00:00+08:00", 30)
    return feed


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.json
    document: dict[str, Any] = response.json
    return document


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == code
    document: dict[str, Any] = response.json
    return document


def _draft(client: FlaskClient, officers: Officers, document: dict[str, Any]) -> int:
    created = _ok(client.post(f"{API}/rulesets", headers=officers.author,
                              json={"document": document, "comment": "proposal"}), 201)
    version: int = created["version"]
    return version


def _approved(client: FlaskClient, officers: Officers, document: dict[str, Any]) -> int:
    version = _draft(client, officers, document)
    _ok(client.post(f"{API}/rulesets/{version}/submit", headers=officers.author,
                    json={"comment": "ready"}))
    _ok(client.post(f"{API}/rulesets/{version}/simulations", headers=officers.approver), 201)
    _ok(client.post(f"{API}/rulesets/{version}/approve", headers=officers.approver,
                    json={"comment": "impact reviewed"}))
    return version


def test_a_change_is_drafted_simulated_approved_and_applied(
        client: FlaskClient, officers: Officers, feed: Feed) -> None:
    created = client.post(f"{API}/rulesets", headers=officers.author,
                          json={"document": SPEC_EXAMPLE, "comment": "the SPEC's example"})
    first = _ok(created, 201)
    assert created.headers["Location"].endswith(f"{API}/rulesets/{first['version']}")
    assert (first["status"], first["active"], first["author"]) == (
        "draft", False, "user-risk-officer")
    assert first["sha256"] == document_sha256(SPEC_EXAMPLE)
    assert first["document"] == SPEC_EXAMPLE
    version = first["version"]

    _ok(client.post(f"{API}/rulesets/{version}/submit", headers=officers.author,
                    json={"comment": "ready"}))
    _problem(client.post(f"{API}/rulesets/{version}/approve", headers=officers.author,
                         json={"comment": "my own"}), 403, "four_eyes")
    _problem(client.post(f"{API}/rulesets/{version}/approve", headers=officers.approver,
                         json={"comment": "blind"}), 409, "simulation_required")
    run = client.post(f"{API}/rulesets/{version}/simulations", headers=officers.approver)
    simulation = _ok(run, 201)
    assert (simulation["residents"], simulation["gaining"], simulation["baseline_version"]) == (
        1, 1, None)
    assert _ok(client.get(run.headers["Location"], headers=officers.auditor)) == simulation
    approved = _ok(client.post(f"{API}/rulesets/{version}/approve", headers=officers.approver,
                               json={"comment": "impact reviewed"}))
    assert (approved["status"], approved["active"]) == ("approved", True)
    assert [step["action"] for step in approved["history"]] == [
        "drafted", "submitted", "approved"]
    assert approved["history"][2]["simulation_id"] == simulation["id"]

    terms = _ok(client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                           headers=officers.loan_system))
    # 40 × 2 + 30 = 110: tier 1 of the SPEC's example
    assert (terms["score"], terms["tier"], terms["limit_uplift_cny"], terms["ruleset_version"]) \
        == (110, 1, 20000, version)

    # The change: tier 1 pays 30 000 instead of 20 000.
    changed = copy.deepcopy(SPEC_EXAMPLE)
    changed["tiers"][1]["limit_uplift_cny"] = 30000
    second = _draft(client, officers, changed)
    difference = _ok(client.get(f"{API}/rulesets/{second}/diff?against={version}",
                                headers=officers.auditor))
    assert [change["line"] for change in difference["changes"]] == [
        "tiers[1].limit_uplift_cny: 20000 → 30000"]
    impact = _ok(client.post(f"{API}/rulesets/{second}/simulations", headers=officers.author),
                 201)
    assert (impact["gaining"], impact["exposure_before_cny"], impact["exposure_after_cny"]) == (
        1, 20000, 30000)
    _ok(client.post(f"{API}/rulesets/{second}/submit", headers=officers.author,
                    json={"comment": "a larger uplift"}))
    _ok(client.post(f"{API}/rulesets/{second}/approve", headers=officers.approver,
                    json={"comment": "exposure acceptable"}))

    now_terms = _ok(client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                               headers=officers.loan_system))
    assert (now_terms["ruleset_version"], now_terms["limit_uplift_cny"]) == (second, 30000)
    assert _ok(client.get(f"{API}/rulesets/{version}", headers=officers.auditor))["status"] \
        == "superseded"
    assert _ok(client.get(f"{API}/rulesets/active", headers=officers.auditor))["version"] \
        == second
    listed = _ok(client.get(f"{API}/rulesets?limit=1", headers=officers.auditor))
    assert [item["version"] for item in listed["items"]] == [version]
    assert listed["next"] == version
    # The first answer is still what it was, under the version it used.
    replayed = _ok(client.get(f"{API}/decisions/{terms['decision_id']}",
                              headers=officers.auditor))
    assert (replayed["agrees"], replayed["ruleset_version"], replayed["limit_uplift_cny"]) == (
        True, version, 20000)


def test_terms_carry_their_explanation(client: FlaskClient, officers: Officers,
                                       feed: Feed) -> None:
    _approved(client, officers, SPEC_EXAMPLE)

    terms = _ok(client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                           headers=officers.loan_system))

    explanation = terms["explanation"]
    assert [(line["category"], line["capped_points"], line["contribution"])
            for line in explanation["categories"]] == [
        ("garbage_sorting", 30, "30"), ("safety_patrol", 40, "80")]
    assert explanation["tier"] == {"index": 1, "when": {"min_score": 100},
                                   "limit_uplift_cny": 20000, "rate_discount_bp": 5}
    assert set(terms) >= {"score", "active_months", "deductions", "limit_uplift_cny",
                          "rate_discount_bp", "ruleset_version", "ruleset_sha256", "tier",
                          "explanation", "decision_id", "ledger_seq", "as_of"}


def test_a_bad_document_is_a_problem_naming_each_path(client: FlaskClient,
                                                      officers: Officers, feed: Feed) -> None:
    document = copy.deepcopy(SPEC_EXAMPLE)
    document["tiers"][2]["when"] = {"min_score": 1}
    document["categories"]["garbage_sorting"]["weight"] = 1.0

    problem = _problem(client.post(f"{API}/rulesets", headers=officers.author,
                                   json={"document": document, "comment": "typos"}),
                       422, "ruleset_invalid")

    assert problem["errors"] == {
        "document.categories.garbage_sorting.weight":
            'must be a decimal string such as "1.0", not a JSON number',
        "document.tiers[2].when": 'the last tier must be unconditional ("when": {})'}


def test_a_step_without_a_comment_is_refused(client: FlaskClient, officers: Officers,
                                             feed: Feed) -> None:
    version = _draft(client, officers, SPEC_EXAMPLE)
    problem = _problem(client.post(f"{API}/rulesets/{version}/submit", headers=officers.author,
                                   json={}), 422, "invalid_input")
    assert "comment" in problem["errors"]


def test_credit_terms_refuse_what_they_cannot_answer(client: FlaskClient, officers: Officers,
                                                     feed: Feed) -> None:
    url = f"{API}/residents/{RESIDENT_A}/credit-terms"
    _problem(client.get(url, headers=officers.loan_system), 409, "no_active_ruleset")
    _approved(client, officers, SPEC_EXAMPLE)
    _problem(client.get(f"{API}/residents/330109199001011234/credit-terms",
                        headers=officers.loan_system), 422, "invalid_input")
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    problem = _problem(client.get(url, query_string={"as_of": future},
                                  headers=officers.loan_system), 422, "invalid_input")
    assert problem["errors"] == {"as_of": "must not be in the future"}
    problem = _problem(client.get(url, query_string={"as_of": "2026-11-01T08:00:00"},
                                  headers=officers.loan_system), 422, "invalid_input")
    assert "as_of" in problem["errors"]
    _problem(client.get(f"{API}/decisions/00000000-0000-4000-8000-000000000000",
                        headers=officers.auditor), 404, "not_found")


def test_terms_as_of_a_past_moment(client: FlaskClient, officers: Officers,
                                   feed: Feed) -> None:
    _approved(client, officers, SPEC_EXAMPLE)
    long_ago = "2020-01-31T12:00:00+08:00"

    terms = _ok(client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                           query_string={"as_of": long_ago}, headers=officers.loan_system))

    assert (terms["as_of"], terms["score"], terms["tier"]) == ("2020-01-31T04:00:00Z", 0, 2)
    assert terms["explanation"]["window"] == {"months": 12, "from": "2019-02", "to": "2020-01"}


def test_tellers_and_auditors_cannot_change_rules(client: FlaskClient, officers: Officers,
                                                  feed: Feed) -> None:
    for headers in (officers.teller, officers.auditor, officers.loan_system):
        _problem(client.post(f"{API}/rulesets", headers=headers,
                             json={"document": SPEC_EXAMPLE, "comment": "mine"}),
                 403, "forbidden")
    assert _ok(client.get(f"{API}/rulesets", headers=officers.auditor))["items"] == []


def test_an_auditor_recomputes_the_audit_chain_from_the_api_alone(
        client: FlaskClient, officers: Officers, feed: Feed) -> None:
    _approved(client, officers, SPEC_EXAMPLE)
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _ok(client.get(f"{API}/audit", query_string={"after": after, "limit": 2},
                              headers=officers.auditor))
        events.extend(page["items"])
        if page["next"] is None:
            break
        after = page["next"]

    assert [event["action"] for event in events] == [
        "ruleset.drafted", "ruleset.submitted", "ruleset.simulated", "ruleset.approved"]
    previous = bytes(32)
    for event in events:
        document = {key: value for key, value in event.items() if key != "entry_hash"}
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(document)).digest()
        previous = hashlib.sha256(previous + leaf).digest()
        assert previous.hex() == event["entry_hash"], event["seq"]
    one_subject = _ok(client.get(f"{API}/audit", query_string={"subject": "ruleset:1"},
                                 headers=officers.auditor))
    assert len(one_subject["items"]) == 4
