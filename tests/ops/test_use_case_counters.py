"""The counters the API's use cases move (SPEC §15): events and rejections by platform and
outcome in the embedded mode, redemptions by branch, credit-terms decisions; each by exactly
what was done, never for what was refused or rolled back."""

from __future__ import annotations

import dataclasses

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner
from tests.api.support import ID_NUMBER, Tokens, bearer, post_delivery
from tests.counter.conftest import BRANCH, COOKWARE, PLATFORM, RICE, Staff
from tests.ops.support import scrape, series, value
from tests.rules.support import activate, platforms, spec_document
from tests.support import RESIDENT_A, PlatformFixture

EVENTS = "pointsledger_events_total"
REJECTIONS = "pointsledger_rejections_total"
REDEMPTIONS = "pointsledger_redemptions_total"
DECISIONS = "pointsledger_decisions_total"


def test_events_are_counted_by_platform_and_outcome(client: FlaskClient, tokens: Tokens,
                                                    platform: PlatformFixture) -> None:
    monitor = tokens.by_role["monitor"]
    before = scrape(client, monitor)
    first = platform.delivery()
    for delivery in (first, platform.delivery(), first):  # the third is a duplicate
        assert post_delivery(client, delivery).status_code in (200, 201)
    impostor = dataclasses.replace(platform, signer=EventSigner(Ed25519PrivateKey.generate()))
    assert post_delivery(client, impostor.delivery()).status_code == 401
    forged = platform.delivery(platform=f"forged{ID_NUMBER}")
    assert post_delivery(client, forged).status_code in (400, 422)
    after = scrape(client, monitor)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    code = platform.code
    assert moved(EVENTS, platform=code, outcome="recorded") == 2
    assert moved(EVENTS, platform=code, outcome="duplicate") == 1
    assert moved(EVENTS, platform=code, outcome="rejected") == 1
    assert moved(REJECTIONS, platform=code, reason="bad_signature") == 1
    assert moved(EVENTS, platform="unknown", outcome="rejected") == 1
    assert not [labels for name in (EVENTS, REJECTIONS) for labels in series(after, name)
                if "forged" in labels["platform"]]


def test_redemptions_are_counted_by_branch_once_each(client: FlaskClient, counter: Staff) -> None:
    auditor = counter.tokens["auditor-qian"]
    before = value(scrape(client, auditor), REDEMPTIONS, branch=BRANCH)

    def redeem(key: str, sku: str, quantity: int) -> tuple[int, str | None]:
        response = client.post("/api/v1/redemptions", headers=counter.headers("teller-li", key),
                               json={"resident": RESIDENT_A, "platform": PLATFORM, "sku": sku,
                                     "quantity": quantity})
        return response.status_code, response.headers.get("Idempotent-Replayed")

    assert redeem("first", RICE[0], 1) == (201, None)
    assert redeem("first", RICE[0], 1) == (201, "true")  # the first answer again
    assert redeem("second", COOKWARE[0], 1) == (201, None)
    assert redeem("too-many", COOKWARE[0], 5)[0] == 409  # not in stock: nothing recorded

    assert value(scrape(client, auditor), REDEMPTIONS, branch=BRANCH) - before == 2


def test_decisions_are_counted_when_kept(ledger: Ledger, client: FlaskClient,
                                         tokens: Tokens) -> None:
    monitor = tokens.by_role["monitor"]
    loan_system = bearer(tokens.by_role["credit_system"])
    url = f"/api/v1/residents/{RESIDENT_A}/credit-terms"
    platforms(ledger)
    before = value(scrape(client, monitor), DECISIONS)
    assert client.get(url, headers=loan_system).status_code == 409  # no rule set yet
    activate(ledger, spec_document())
    for _ in range(3):
        assert client.get(url, headers=loan_system).status_code == 200

    assert value(scrape(client, monitor), DECISIONS) - before == 3
