"""The demo's rules, through the real API: two risk officers put the default rule set in force,
then one drafts a change, simulates its impact on every resident and submits it, and the other
approves it; the loan system then asks for a resident's terms (SPEC §8).

Run again on a ledger that already has an active version, it shows that version instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.bootstrap import Ledger
from ledger.infra.db.models import Balance
from ledger.service.rules.default import DEFAULT_RULESET

API = "/api/v1"
AUTHOR = "demo-risk"
APPROVER = "demo-risk2"
LOAN_SYSTEM = "demo-loans"
# The demo's residents are a few weeks old: a lower entry tier makes the change visible.
CHANGED_ENTRY_SCORE = 30
ENTRY_TIER = 3


class DemoRulesFailed(Exception):
    """The API refused a step of the demo's own script."""


@dataclass(frozen=True)
class RulesStory:
    lines: list[str]
    resident: str | None


def tell_rules(client: FlaskClient, ledger: Ledger, tokens: dict[str, str]) -> RulesStory:
    api = _Api(client, tokens)
    lines: list[str] = []
    response = client.get(f"{API}/rulesets/active", headers=api.headers(AUTHOR))
    if response.status_code == 200:
        active = api.ok(response)
        lines.append(f"rule set version {active['version']} is active ({active['name']}), "
                     "from an earlier run")
    else:
        first = api.through_four_eyes(DEFAULT_RULESET, "the default policy for the four towns")
        lines.append(f"version {first['version']} ({DEFAULT_RULESET['name']}): drafted by "
                     f"{AUTHOR}, simulated and approved by {APPROVER}")
        changed = copy.deepcopy(DEFAULT_RULESET)
        changed["name"] = "Contribution credit policy (entry tier from 30 points)"
        changed["tiers"][ENTRY_TIER]["when"]["min_score"] = CHANGED_ENTRY_SCORE
        second = api.draft(changed, "new residents should reach the entry tier sooner")
        version = second["version"]
        differences = api.ok(client.get(f"{API}/rulesets/{version}/diff",
                                        query_string={"against": first["version"]},
                                        headers=api.headers(AUTHOR)))
        impact = api.ok(client.post(f"{API}/rulesets/{version}/simulations",
                                    headers=api.headers(AUTHOR)), 201)
        api.step(version, "submit", AUTHOR, "impact reviewed: see the simulation")
        api.step(version, "approve", APPROVER, "exposure acceptable")
        lines.append(f"version {version}, a change drafted by {AUTHOR}:")
        lines.extend(f"    {change['line']}" for change in differences["changes"])
        lines.extend(_impact_lines(impact))
        lines.append(f"  submitted by {AUTHOR}; {APPROVER} approved it: version {version} is "
                     "active")
    resident = _busiest_resident(ledger)
    if resident is not None:
        terms = api.ok(client.get(f"{API}/residents/{resident}/credit-terms",
                                  headers=api.headers(LOAN_SYSTEM)))
        lines.append(f"the loan system asks for the terms of the busiest resident "
                     f"({resident[:12]}…): score {terms['score']}, "
                     f"{terms['active_months']} active months, tier {terms['tier']}: "
                     f"+{terms['limit_uplift_cny']} CNY limit, -{terms['rate_discount_bp']} bp "
                     f"(decision {terms['decision_id']})")
    return RulesStory(lines, resident)


def _impact_lines(impact: dict[str, Any]) -> list[str]:
    lines = [f"  its simulation against version {impact['baseline_version']}: "
             f"{impact['residents']} residents, {impact['gaining']} gaining, "
             f"{impact['losing']} losing, exposure {impact['exposure_before_cny']} → "
             f"{impact['exposure_after_cny']} CNY"]
    for code, group in impact["by_platform"].items():
        lines.append(f"    {code}: {group['residents']} residents, {group['gaining']} gaining, "
                     f"exposure {group['exposure_before_cny']} → "
                     f"{group['exposure_after_cny']} CNY")
    return lines


def _busiest_resident(ledger: Ledger) -> str | None:
    with ledger.sessions() as session:
        resident: str | None = session.scalar(
            select(Balance.resident).order_by(Balance.earned.desc(), Balance.resident)
            .limit(1))
    return resident


class _Api:
    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self._client = client
        self._tokens = tokens

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    @staticmethod
    def ok(response: Any, status: int = 200) -> dict[str, Any]:
        if response.status_code != status:
            raise DemoRulesFailed(f"the API answered {response.status_code}: "
                                  f"{response.json.get('detail') if response.json else ''}")
        document: dict[str, Any] = response.json
        return document

    def draft(self, document: dict[str, Any], comment: str) -> dict[str, Any]:
        return self.ok(self._client.post(f"{API}/rulesets", headers=self.headers(AUTHOR),
                                         json={"document": document, "comment": comment}), 201)

    def step(self, version: int, action: str, username: str, comment: str) -> None:
        self.ok(self._client.post(f"{API}/rulesets/{version}/{action}",
                                  headers=self.headers(username), json={"comment": comment}))

    def through_four_eyes(self, document: dict[str, Any], comment: str) -> dict[str, Any]:
        drafted = self.draft(document, comment)
        version = drafted["version"]
        self.step(version, "submit", AUTHOR, "ready for review")
        self.ok(self._client.post(f"{API}/rulesets/{version}/simulations",
                                  headers=self.headers(APPROVER)), 201)
        self.step(version, "approve", APPROVER, "impact reviewed")
        return drafted
