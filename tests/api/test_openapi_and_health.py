"""The OpenAPI document, and the health probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.api import create_app
from ledger.bootstrap import Ledger
from tests.api.support import FakeEventQueue, dead_ledger, in_broker_mode


def _openapi_path(rule: str) -> str:
    """`/rulesets/<int:version>` is `/rulesets/{version}` in OpenAPI."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_31_lists_every_api_route_with_its_security(app: Flask,
                                                            client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json

    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "an API token from `pointsledger tokens create`"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api-docs.openapi_json":
            continue
        path = document["paths"][_openapi_path(rule.rule)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = path[method.lower()]
            token_required = rule.endpoint != "events.post_event"
            assert (operation["security"] != []) is token_required, rule.endpoint


def test_errors_are_documented_as_problem_details(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    unauthorized = document["components"]["responses"]["UNAUTHORIZED"]
    assert list(unauthorized["content"]) == ["application/problem+json"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(
        document["components"]["schemas"]["Problem"]["properties"])


def test_healthz_answers_without_dependencies(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_ready_with_a_working_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_is_503_when_the_database_is_gone(ledger: Ledger, tmp_path: Path) -> None:
    dead = dead_ledger(ledger, tmp_path)
    try:
        response = create_app(ledger=dead).test_client().get("/readyz")
    finally:
        dead.close()
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "not_ready"
    assert response.json["checks"] == {"database": "failed"}
    assert "database" in response.json["detail"]


@pytest.mark.parametrize("available", [True, False])
def test_readyz_checks_the_queue_in_broker_mode(ledger: Ledger, available: bool) -> None:
    queue = FakeEventQueue(available=available)
    client = create_app(ledger=in_broker_mode(ledger), event_queue=queue).test_client()
    response = client.get("/readyz")
    if available:
        assert response.status_code == 200
        assert response.json["checks"] == {"database": "ok", "queue": "ok"}
    else:
        assert response.status_code == 503
        assert response.json["checks"] == {"database": "ok", "queue": "failed"}
