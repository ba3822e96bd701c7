"""Access control (SPEC §7, §12): default deny, bearer tokens, roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from ledger.api.access import public, rule_for_endpoint
from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.contract.webhook import encode_public_key, public_key_bytes
from ledger.domain.roles import ROLES
from tests.api.support import BRANCH, ID_NUMBER, Tokens, bearer, create_tokens
from tests.support import RESIDENT_A, PlatformFixture


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    allowed: frozenset[str]
    json: dict[str, Any] | None = field(default=None)

    def call(self, client: FlaskClient, headers: dict[str, str]) -> Any:
        return client.open(self.path, method=self.method, json=self.json, headers=headers)


# A platform's operator and a monitoring system are not the bank's business roles (SPEC §12).
BUSINESS_ROLES = frozenset(ROLES) - {"platform_operator", "monitor"}
READERS = frozenset({"teller", "supervisor", "risk_officer", "auditor"})
AUDIT = frozenset({"auditor", "admin"})
PLATFORM_READERS = AUDIT | {"platform_operator"}
ADMIN = frozenset({"admin"})
RULE_READERS = frozenset({"risk_officer", "auditor"})
RULE_WRITERS = frozenset({"risk_officer"})
TERMS_ASKERS = frozenset({"credit_system", "risk_officer", "auditor"})
COMMENT = {"comment": "why"}
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"

TOKEN_ROUTES = [
    Route("platforms.list_all", "GET", "/api/v1/platforms", PLATFORM_READERS),
    Route("platforms.event_status", "GET", "/api/v1/platforms/lijiayuan/events/e-1",
          PLATFORM_READERS),
    Route("residents.lookup", "POST", "/api/v1/residents/lookup",
          frozenset({"teller", "supervisor", "risk_officer", "credit_system"}),
          json={"id_number": ID_NUMBER}),
    Route("residents.balances", "GET", f"/api/v1/residents/{RESIDENT_A}", READERS),
    Route("residents.entries", "GET", f"/api/v1/residents/{RESIDENT_A}/entries", READERS),
    Route("ledger.head", "GET", "/api/v1/ledger/head", BUSINESS_ROLES),
    Route("ledger.entries", "GET", "/api/v1/ledger/entries", AUDIT),
    Route("rejections.list_rejections", "GET", "/api/v1/rejections", PLATFORM_READERS),
    Route("rulesets.draft", "POST", "/api/v1/rulesets", RULE_WRITERS,
          json={"document": {}, "comment": "why"}),
    Route("rulesets.list_versions", "GET", "/api/v1/rulesets", RULE_READERS),
    Route("rulesets.show_active", "GET", "/api/v1/rulesets/active", RULE_READERS),
    Route("rulesets.show", "GET", "/api/v1/rulesets/1", RULE_READERS),
    Route("rulesets.submit", "POST", "/api/v1/rulesets/1/submit", RULE_WRITERS, json=COMMENT),
    Route("rulesets.approve", "POST", "/api/v1/rulesets/1/approve", RULE_WRITERS,
          json=COMMENT),
    Route("rulesets.reject", "POST", "/api/v1/rulesets/1/reject", RULE_WRITERS, json=COMMENT),
    Route("rulesets.diff", "GET", "/api/v1/rulesets/1/diff?against=2", RULE_READERS),
    Route("rulesets.simulate", "POST", "/api/v1/rulesets/1/simulations", RULE_WRITERS),
    Route("rulesets.list_simulations", "GET", "/api/v1/rulesets/1/simulations", RULE_READERS),
    Route("rulesets.show_simulation", "GET", "/api/v1/rulesets/1/simulations/1",
          RULE_READERS),
    Route("credit_terms.credit_terms", "GET", f"/api/v1/residents/{RESIDENT_A}/credit-terms",
          TERMS_ASKERS),
    Route("credit_terms.decision", "GET",
          "/api/v1/decisions/00000000-0000-4000-8000-000000000000", TERMS_ASKERS),
    Route("audit.audit_trail", "GET", "/api/v1/audit", AUDIT),
    Route("counter.add_gift", "POST", "/api/v1/gifts", frozenset({"admin"}),
          json={"sku": "RICE", "name": "大米", "points_cost": 10}),
    Route("counter.list_gifts", "GET", "/api/v1/gifts", BUSINESS_ROLES),
    Route("counter.update_gift", "PATCH", "/api/v1/gifts/RICE", frozenset({"admin"}),
          json={"active": False}),
    Route("counter.set_stock", "PUT", f"/api/v1/branches/{BRANCH}/stock/RICE",
          frozenset({"admin", "supervisor"}), json={"quantity": 1, "reason": "delivery"}),
    Route("counter.stock", "GET", f"/api/v1/branches/{BRANCH}/stock",
          frozenset({"admin", "supervisor", "teller", "auditor"})),
    Route("counter.stock_changes", "GET", f"/api/v1/branches/{BRANCH}/stock-changes",
          frozenset({"admin", "supervisor", "auditor"})),
    Route("counter.redeem", "POST", "/api/v1/redemptions", frozenset({"teller", "supervisor"}),
          json={"resident": RESIDENT_A, "platform": "lijiayuan", "sku": "RICE", "quantity": 1}),
    Route("counter.show_redemption", "GET", f"/api/v1/redemptions/{NO_SUCH_ID}",
          frozenset({"teller", "supervisor", "auditor"})),
    Route("counter.reverse", "POST", f"/api/v1/redemptions/{NO_SUCH_ID}/reversal",
          frozenset({"supervisor"}), json={"reason": "mistake"}),
    Route("counter.reconcile", "GET", f"/api/v1/branches/{BRANCH}/reconciliation?date=2026-12-01",
          frozenset({"supervisor", "auditor"})),
    # Admin routes (SPEC §12). Changes touch only what no other role's call needs: a user
    # outside the matrix, new platforms and branches, unknown tokens and keys.
    Route("admin.list_users", "GET", "/api/v1/users", ADMIN),
    Route("admin.add_user", "POST", "/api/v1/users", ADMIN,
          json={"username": "new-auditor", "role": "auditor"}),
    Route("admin.update_user", "PATCH", "/api/v1/users/user-late", ADMIN,
          json={"role": "risk_officer"}),
    Route("admin.create_token", "POST", "/api/v1/users/user-late/tokens", ADMIN, json={}),
    Route("admin.list_tokens", "GET", "/api/v1/tokens", ADMIN),
    Route("admin.revoke_token", "POST", "/api/v1/tokens/999999/revoke", ADMIN),
    Route("admin.add_platform", "POST", "/api/v1/platforms", ADMIN,
          json={"code": "pingan", "name": "平安共富积分", "township": "党湾镇"}),
    Route("admin.add_key", "POST", "/api/v1/platforms/lijiayuan/keys", ADMIN,
          json={"public_key": encode_public_key(public_key_bytes(
              Ed25519PrivateKey.generate()))}),
    Route("admin.revoke_key", "POST", "/api/v1/keys/key_0000000000000000/revoke", ADMIN,
          json={"compromised": True}),
    Route("admin.add_branch", "POST", "/api/v1/branches", ADMIN,
          json={"code": "GL02", "name": "瓜沥支行"}),
    # The verifiable logs (SPEC §14): proofs naming an entry, entry bundles, key histories.
    Route("ledger_log.inclusion_proof", "GET",
          "/api/v1/ledger/proofs/inclusion?seq=1&tree_size=1", PLATFORM_READERS),
    Route("audit_log.inclusion_proof", "GET", "/api/v1/audit/proofs/inclusion?seq=1&tree_size=1",
          AUDIT),
    Route("platforms.event_inclusion", "GET", "/api/v1/platforms/lijiayuan/events/e-1/proof",
          PLATFORM_READERS),
    Route("platforms.keys", "GET", "/api/v1/platforms/lijiayuan/keys", PLATFORM_READERS),
    Route("tlog.entry_bundle", "GET", "/tlog/tile/entries/000", AUDIT),
    Route("tlog_audit.entry_bundle", "GET", "/tlog/audit/tile/entries/000", AUDIT),
    Route("metrics.metrics", "GET", "/metrics", AUDIT | {"monitor"}),
]
# Checkpoints, consistency proofs and hash tiles are public (SPEC §14).
PUBLIC_LOG_ROUTES = {
    "ledger_log.checkpoint": "/api/v1/ledger/checkpoint",
    "ledger_log.checkpoints": "/api/v1/ledger/checkpoints",
    "ledger_log.consistency_proof": "/api/v1/ledger/proofs/consistency?first=0&second=1",
    "audit_log.checkpoint": "/api/v1/audit/checkpoint",
    "audit_log.checkpoints": "/api/v1/audit/checkpoints",
    "audit_log.consistency_proof": "/api/v1/audit/proofs/consistency?first=0&second=1",
    "tlog.checkpoint": "/tlog/checkpoint",
    "tlog.hash_tile": "/tlog/tile/0/000",
    "tlog_audit.checkpoint": "/tlog/audit/checkpoint",
    "tlog_audit.hash_tile": "/tlog/audit/tile/0/000",
}
OPEN_ENDPOINTS = {"events.post_event", "health.healthz", "health.readyz",
                  "api-docs.openapi_json", "root", *PUBLIC_LOG_ROUTES}


@pytest.fixture
def tokens(ledger: Ledger, platform: PlatformFixture) -> Tokens:
    """Every role, the platform operator bound to the registered platform."""
    return create_tokens(ledger.sessions, operated_platform=platform.code)


def test_every_role_has_a_token_here(tokens: Tokens) -> None:
    assert set(tokens.by_role) == set(ROLES)


def test_every_route_declares_who_may_call_it(app: Flask) -> None:
    # The console's pages declare theirs with its own decorators (tests/console/test_pages.py).
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if not rule.endpoint.startswith("console.")}
    undeclared = [endpoint for endpoint in endpoints if rule_for_endpoint(app, endpoint) is None]
    assert undeclared == []
    # And this file tests each of them: a new route must be added to the matrix below.
    assert endpoints == {route.endpoint for route in TOKEN_ROUTES} | OPEN_ENDPOINTS


def test_a_route_without_a_declared_rule_is_refused_to_everyone(
        ledger: Ledger, tokens: Tokens) -> None:
    app = create_app(ledger=ledger)
    app.add_url_rule("/api/v1/forgotten", "forgotten", lambda: {"secret": "exposed"})
    client = app.test_client()

    for headers in ({}, bearer(tokens.by_role["admin"])):
        response = client.get("/api/v1/forgotten", headers=headers)
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"
        assert b"exposed" not in response.data


def test_a_declared_rule_on_a_new_route_opens_it(ledger: Ledger) -> None:
    app = create_app(ledger=ledger)
    app.add_url_rule("/api/v1/open", "open", public(lambda: {"open": True}))
    assert app.test_client().get("/api/v1/open").json == {"open": True}


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=lambda route: route.endpoint)
def test_route_admits_exactly_its_roles(client: FlaskClient, tokens: Tokens,
                                        route: Route) -> None:
    for role in ROLES:
        status = route.call(client, bearer(tokens.by_role[role])).status_code
        if role in route.allowed:
            assert status not in (401, 403), role
        else:
            assert status == 403, role


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=lambda route: route.endpoint)
def test_route_refuses_a_missing_expired_or_unknown_token(client: FlaskClient, tokens: Tokens,
                                                          route: Route) -> None:
    refused = [
        {},
        bearer(tokens.expired),
        bearer("plt_" + "x" * 43),
        bearer("garbage"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        bearer("plt_" + "x" * 5000),
    ]
    for headers in refused:
        response = route.call(client, headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_open_routes_need_no_token(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    # Events are authenticated by their signature: an unsigned one is refused as such, not 401
    # for want of a token.
    response = client.post("/api/v1/events", data=b"{}", content_type="application/json")
    assert response.json["code"] != "unauthorized"
    # Nothing is signed yet: each public log route answers for itself, never 401.
    statuses = {endpoint: client.get(path).status_code
                for endpoint, path in PUBLIC_LOG_ROUTES.items()}
    assert statuses == {endpoint: 200 if endpoint.endswith(".checkpoints")
                        else 422 if endpoint.endswith(".consistency_proof") else 404
                        for endpoint in PUBLIC_LOG_ROUTES}
