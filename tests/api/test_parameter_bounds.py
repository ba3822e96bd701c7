"""A parameter beyond what it can hold is a 422 naming it, never a 500 (SPEC §7), on SQLite and
PostgreSQL alike. The routes are taken from the OpenAPI document, so a route added later is
held to the same bounds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.api.fields import INTEGER_MAX
from tests.api.support import BRANCH, Tokens, bearer
from tests.api.test_problems import assert_problem
from tests.support import RESIDENT_A

API = "/api/v1"
BEYOND = INTEGER_MAX + 1
# Values for string path parameters, so that each route is reached.
PATH_VALUES = {"resident": RESIDENT_A, "branch": BRANCH, "sku": "RICE", "platform": "lijiayuan",
               "username": "user-auditor", "key_id": "key_0", "event_id": "e-1"}


def _operations(client: FlaskClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each operation, with its path's parameters and its own, those shared among the
    components (the request id) written out."""
    document = client.get(f"{API}/openapi.json").json
    shared = document["components"]["parameters"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
                yield method.upper(), path, {**operation, "parameters": [
                    shared[parameter["$ref"].rsplit("/", 1)[1]] if "$ref" in parameter
                    else parameter for parameter in parameters]}


def _url(path: str, integers: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda name: str(integers.get(name[1], PATH_VALUES.get(
        name[1], 1))), path)


def _headers(operation: dict[str, Any], tokens: Tokens) -> dict[str, str]:
    if "x-roles" not in operation:
        return {}  # a public route (SPEC §14: the logs' checkpoints)
    role = next(role for role in operation["x-roles"] if role in tokens.by_role)
    return bearer(tokens.by_role[role])


def _paginated(client: FlaskClient) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, operation) for method, path, operation in _operations(client)
             if method == "GET" and any(parameter["name"] == "after"
                                        for parameter in operation["parameters"])]
    assert len(found) >= 6, "the paginated routes are found in the document"
    return found


def test_a_cursor_beyond_a_bigint_is_refused_on_every_paginated_route(
        client: FlaskClient, tokens: Tokens) -> None:
    for path, operation in _paginated(client):
        headers = _headers(operation, tokens)
        response = client.get(_url(path, {}), query_string={"after": BEYOND}, headers=headers)
        problem = assert_problem(response, 422, "invalid_input")
        assert set(problem["errors"]) == {"after"}, path


def test_the_largest_cursor_a_bigint_holds_is_an_empty_last_page(
        client: FlaskClient, tokens: Tokens) -> None:
    answers = {path: client.get(_url(path, {}), query_string={"after": INTEGER_MAX},
                                headers=_headers(operation, tokens))
               for path, operation in _paginated(client)}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(
        answers, 200)
    assert all(answer.json["next"] is None for answer in answers.values())


@pytest.mark.parametrize("digits", [20, 40, 5000])
def test_a_path_number_beyond_a_bigint_is_refused_naming_it(
        client: FlaskClient, tokens: Tokens, digits: int) -> None:
    checked = 0
    for method, path, operation in _operations(client):
        integers = [parameter["name"] for parameter in operation["parameters"]
                    if parameter["in"] == "path" and parameter["schema"]["type"] == "integer"]
        for name in integers:
            response = client.open(_url(path, {name: "9" * digits}), method=method,
                                   json={}, headers=_headers(operation, tokens))
            problem = assert_problem(response, 422, "invalid_input")
            assert set(problem["errors"]) == {name}, (method, path)
            checked += 1
    assert checked >= 9, "the routes with numbers in their paths are found in the document"


def test_the_largest_path_number_a_bigint_holds_is_looked_up(client: FlaskClient,
                                                             tokens: Tokens) -> None:
    answers = {}
    for method, path, operation in _operations(client):
        for parameter in operation["parameters"]:
            if parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                url = _url(path, {parameter["name"]: str(INTEGER_MAX)})
                answers[f"{method} {url}"] = client.open(
                    url, method=method, json={}, headers=_headers(operation, tokens)).status_code
    assert {request: status for request, status in answers.items() if status >= 500} == {}


def test_path_numbers_are_documented_with_their_bounds(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").json
    schema = document["paths"]["/api/v1/rulesets/{version}/simulations/{simulation_id}"][
        "parameters"][1]["schema"]
    assert schema == {"type": "integer", "minimum": 0, "maximum": INTEGER_MAX}


def test_a_version_to_diff_against_beyond_a_bigint_is_refused(client: FlaskClient,
                                                               tokens: Tokens) -> None:
    response = client.get(f"{API}/rulesets/1/diff", query_string={"against": BEYOND},
                          headers=bearer(tokens.by_role["auditor"]))
    assert set(assert_problem(response, 422, "invalid_input")["errors"]) == {"against"}


@pytest.mark.parametrize("as_of", [
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
])
def test_an_as_of_outside_the_calendar_once_in_utc_is_refused(
        client: FlaskClient, tokens: Tokens, as_of: str) -> None:
    response = client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                          query_string={"as_of": as_of},
                          headers=bearer(tokens.by_role["credit_system"]))
    assert set(assert_problem(response, 422, "invalid_input")["errors"]) == {"as_of"}


def test_an_effective_from_outside_the_calendar_once_in_utc_is_refused(
        client: FlaskClient, tokens: Tokens) -> None:
    response = client.post(f"{API}/rulesets/1/approve",
                           json={"comment": "ok", "effective_from": "0001-01-01T00:00:00+14:00"},
                           headers=bearer(tokens.by_role["risk_officer"]))
    assert set(assert_problem(response, 422, "invalid_input")["errors"]) == {"effective_from"}


@pytest.mark.parametrize("day", ["2026-02-30", "0000-01-01", "2026-13-01", "2026-1-01"])
def test_a_reconciliation_day_that_is_not_on_the_calendar_is_refused(
        client: FlaskClient, tokens: Tokens, day: str) -> None:
    response = client.get(f"{API}/branches/{BRANCH}/reconciliation", query_string={"date": day},
                          headers=bearer(tokens.by_role["auditor"]))
    assert set(assert_problem(response, 422, "invalid_input")["errors"]) == {"date"}
