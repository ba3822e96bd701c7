"""Every error is an RFC 9457 problem document (SPEC §7), and leaks nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.api.access import any_role
from ledger.app import create_app
from ledger.bootstrap import Ledger
from tests.api.support import ID_NUMBER, Tokens, bearer, dead_ledger, post_delivery
from tests.support import PlatformFixture

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    problem: dict[str, Any] = response.get_json(force=True)
    assert problem.keys() >= PROBLEM_FIELDS
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"https://pointsledger.dev/problems/{code}"
    assert problem["title"] and problem["detail"]
    return problem


def test_missing_token_is_a_401_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/ledger/entries")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pointsledger"'


def test_invalid_token_is_a_401_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/ledger/entries", headers=bearer("plt_nope"))
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_role_without_permission_is_a_403_problem(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get("/api/v1/ledger/entries", headers=bearer(tokens.by_role["teller"]))
    assert_problem(response, 403, "forbidden")


def test_unknown_event_is_a_404_problem(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get("/api/v1/platforms/lijiayuan/events/nope",
                          headers=bearer(tokens.by_role["auditor"]))
    assert_problem(response, 404, "not_found")


def test_unknown_url_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/ledger/head")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_invalid_query_is_a_422_problem_with_field_errors(client: FlaskClient,
                                                          tokens: Tokens) -> None:
    response = client.get("/api/v1/ledger/entries?limit=0&after=-1",
                          headers=bearer(tokens.by_role["auditor"]))
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"limit", "after"}
    assert all(isinstance(message, str) for message in problem["errors"].values())


def test_invalid_body_is_a_422_problem_with_field_errors(client: FlaskClient,
                                                         tokens: Tokens) -> None:
    response = client.post("/api/v1/residents/lookup", json={"id": ID_NUMBER},
                           headers=bearer(tokens.by_role["teller"]))
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"id_number", "id"}
    assert ID_NUMBER not in response.get_data(as_text=True)


def test_a_refused_event_is_a_problem_named_by_its_reason(client: FlaskClient,
                                                          platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    tampered = {**delivery.headers, "webhook-signature": "v1a," + "A" * 88}
    response = client.post("/api/v1/events", data=delivery.body, headers=tampered,
                           content_type="application/json")
    assert_problem(response, 401, "bad_signature")


def test_schema_invalid_event_lists_the_field_errors(client: FlaskClient,
                                                     platform: PlatformFixture) -> None:
    response = post_delivery(client, platform.delivery(points=0, colour="red"))
    problem = assert_problem(response, 422, "schema_invalid")
    assert set(problem["errors"]) == {"points", "colour"}


def test_oversized_json_request_is_a_413_problem(client: FlaskClient, tokens: Tokens) -> None:
    response = client.post("/api/v1/residents/lookup", data=b"{" + b" " * 70_000 + b"}",
                           content_type="application/json",
                           headers=bearer(tokens.by_role["teller"]))
    assert_problem(response, 413, "request_entity_too_large")


def test_unexpected_error_is_a_500_that_leaks_nothing(
        ledger: Ledger, tokens: Tokens, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(ledger=ledger)

    @any_role
    def broken() -> None:
        raise RuntimeError(f"connection secret=hunter2 while handling {ID_NUMBER}")

    app.add_url_rule("/api/v1/broken", "broken", broken)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v1/broken",
                                         headers=bearer(tokens.by_role["admin"]))

    problem = assert_problem(response, 500, "internal_error")
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "RuntimeError" not in body and ID_NUMBER not in body
    incident = problem["instance"].removeprefix("urn:uuid:")
    assert incident in problem["detail"]
    # The log has what an operator needs (the incident and the traceback), not the ID number.
    assert incident in caplog.text and "RuntimeError" in caplog.text
    assert ID_NUMBER not in caplog.text


def test_an_unreachable_database_is_a_503_problem_to_retry(
        ledger: Ledger, platform: PlatformFixture, tmp_path: Path) -> None:
    dead = dead_ledger(ledger, tmp_path)
    try:
        client = create_app(ledger=dead).test_client()
        responses = [client.get("/api/v1/ledger/head", headers=bearer("plt_" + "x" * 43)),
                     post_delivery(client, platform.delivery())]
    finally:
        dead.close()
    for response in responses:
        assert_problem(response, 503, "database_unavailable")
        assert int(response.headers["Retry-After"]) > 0


def test_a_request_body_that_is_not_json_is_a_400_problem(client: FlaskClient,
                                                          tokens: Tokens) -> None:
    response = client.post("/api/v1/residents/lookup", data=b'{"id_number": ',
                           content_type="application/json",
                           headers=bearer(tokens.by_role["teller"]))
    problem = assert_problem(response, 400, "bad_request")
    assert set(problem["errors"]) == {"json"}
