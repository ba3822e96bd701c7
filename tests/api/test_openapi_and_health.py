"""The OpenAPI document, and the health probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.domain.entry import LedgerEntry
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.api.support import (
    ID_NUMBER,
    FakeEventQueue,
    Tokens,
    bearer,
    dead_ledger,
    in_broker_mode,
)

# Events are signed by their platform; the verifiable logs' checkpoints, consistency proofs and
# hash tiles are public (SPEC §14). Everything else needs a token.
NO_TOKEN_ENDPOINTS = {
    "events.post_event",
    *(f"{log}.{view}" for log in ("ledger_log", "audit_log")
      for view in ("checkpoint", "checkpoints", "consistency_proof")),
    *(f"{log}.{view}" for log in ("tlog", "tlog_audit") for view in ("checkpoint", "hash_tile")),
}


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
        if (not rule.rule.startswith(("/api/v1/", "/tlog/"))
                or rule.endpoint == "api-docs.openapi_json"):
            continue
        path = document["paths"][_openapi_path(rule.rule)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = path[method.lower()]
            token_required = rule.endpoint not in NO_TOKEN_ENDPOINTS
            assert (operation["security"] != []) is token_required, rule.endpoint


def test_errors_are_documented_as_problem_details(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    unauthorized = document["components"]["responses"]["UNAUTHORIZED"]
    assert list(unauthorized["content"]) == ["application/problem+json"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(
        document["components"]["schemas"]["Problem"]["properties"])


def test_every_operation_takes_a_request_id_and_declares_it_on_every_answer(
        client: FlaskClient) -> None:
    """SPEC §15: every answer carries `X-Request-Id`; the client may name the request."""
    document = client.get("/api/v1/openapi.json").json
    components = document["components"]
    parameter = {"$ref": f"#/components/parameters/{REQUEST_ID_HEADER}"}
    header = {"$ref": f"#/components/headers/{REQUEST_ID_HEADER}"}
    request_parameter = components["parameters"][REQUEST_ID_HEADER]
    assert {key: request_parameter[key] for key in ("in", "name", "required", "schema")} == {
        "in": "header", "name": REQUEST_ID_HEADER, "required": False,
        "schema": {"type": "string"}}
    assert re.fullmatch(components["headers"][REQUEST_ID_HEADER]["schema"]["pattern"],
                        client.get("/healthz").headers[REQUEST_ID_HEADER])
    operations = [operation for path in document["paths"].values()
                  for method, operation in path.items() if method != "parameters"]
    assert len(operations) > 50
    for operation in operations:
        assert parameter in operation["parameters"], operation["summary"]
        for response in operation["responses"].values():
            if "$ref" in response:
                response = components["responses"][response["$ref"].rsplit("/", 1)[1]]
            assert response["headers"][REQUEST_ID_HEADER] == header, operation["summary"]


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


def test_the_entry_schema_has_every_field_an_entry_can_have(client: FlaskClient) -> None:
    entry = client.get("/api/v1/openapi.json").json["components"]["schemas"]["Entry"]
    assert entry["additionalProperties"] is False
    assert set(entry["properties"]) == {*LedgerEntry.__dataclass_fields__, "entry_hash"}


def test_the_document_gives_the_patterns_of_skus_residents_and_id_numbers(
        client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    schemas, paths = document["components"]["schemas"], document["paths"]
    sku = "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
    resident = "^[0-9a-f]{64}$"
    assert schemas["Gift"]["properties"]["sku"]["pattern"] == sku
    assert schemas["RedemptionRequest"]["properties"]["sku"]["pattern"] == sku
    assert paths["/api/v1/gifts/{sku}"]["parameters"][0]["schema"]["pattern"] == sku
    assert schemas["ResidentLookup"]["properties"]["id_number"]["pattern"] == \
        "^[0-9]{17}[0-9Xx]$"
    for schema in ("Resident", "RedemptionRequest", "Entry", "EventEnvelope"):
        assert schemas[schema]["properties"]["resident"]["pattern"] == resident, schema
    for path in ("/api/v1/residents/{resident}", "/api/v1/residents/{resident}/entries",
                 "/api/v1/residents/{resident}/credit-terms"):
        assert paths[path]["parameters"][0]["schema"]["pattern"] == resident, path


@pytest.mark.parametrize("active", [0, 1, "true", "yes", None])
def test_a_gift_is_switched_by_a_json_boolean_only(client: FlaskClient, tokens: Tokens,
                                                   active: object) -> None:
    admin = bearer(tokens.by_role["admin"])
    assert client.post("/api/v1/gifts", headers=admin, json={
        "sku": "RICE", "name": "五常大米", "points_cost": 40}).status_code == 201
    refused = client.patch("/api/v1/gifts/RICE", headers=admin, json={"active": active})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"active"}
    switched = client.patch("/api/v1/gifts/RICE", headers=admin, json={"active": False})
    assert (switched.status_code, switched.json["active"]) == (200, False)


def test_a_pattern_is_matched_whole(client: FlaskClient, tokens: Tokens) -> None:
    """marshmallow's Regexp matches from the start only; a pattern of ours, whole values."""
    teller = bearer(tokens.by_role["teller"])
    for id_number in (ID_NUMBER + "\n", ID_NUMBER + "0", " " + ID_NUMBER):
        response = client.post("/api/v1/residents/lookup", headers=teller,
                               json={"id_number": id_number})
        assert (response.status_code, set(response.json["errors"])) == (422, {"id_number"})
        assert ID_NUMBER not in response.get_data(as_text=True)
