"""The OpenAPI document describes the API exactly (SPEC §7): schemathesis generates requests from
the document, valid and invalid ones, for every operation with every role's token and with none,
against the app in-process, and checks every answer against the document.

Per answer: no 5xx; the status code, content type, headers and body are as documented; invalid
input is refused; `nosniff` always and `no-store` whenever a token was needed or sent. Bounded to
stay fast (a few examples per operation, none shrunk) and derandomized, so CI sees the same
requests every run. The ledger is seeded first (events, a rejection, a rule set with a simulation
and a decision, gifts, stock, a redemption and a reversal, then both logs' checkpoints) and each
operation is also called on those known ids, so that the answers checked are full documents,
not only 404s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.errors import FailureGroup
from schemathesis.generation.meta import CoveragePhaseData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from ledger.bootstrap import Ledger
from ledger.domain.roles import ROLES
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.api.log_support import sign_checkpoints
from tests.api.support import BRANCH, Tokens, bearer, create_tokens, post_delivery, user_of_role
from tests.rules.support import activate, platforms, spec_document
from tests.support import RESIDENT_A, RESIDENT_B

API = "/api/v1"
# Random examples per operation and generation mode, beside the coverage phase's cases: enough
# to vary what the coverage phase fixes, few enough that the whole document runs in well under
# a minute on two cores.
EXAMPLES = 10
GIFT = ("RICE-5KG", "五常大米 5kg", 40)
PLATFORM = "lijiayuan"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the properties are the document's, not the database's (the bounds of ids
    and cursors on both databases have tests of their own)."""
    return sqlite_url


@dataclass(frozen=True)
class Seeded:
    tokens: Tokens
    path_parameters: dict[str, Any]


@pytest.fixture
def seeded(ledger: Ledger, client: FlaskClient) -> Seeded:
    platform = platforms(ledger)[PLATFORM]  # the platforms the rule set weighs
    tokens = create_tokens(ledger.sessions, operated_platform=PLATFORM)

    def as_(role: str, **headers: str) -> dict[str, str]:
        return {**bearer(tokens.by_role[role]), **headers}

    for resident in (RESIDENT_A, RESIDENT_B):
        assert post_delivery(client, platform.delivery(resident=resident,
                                                       points=500)).status_code == 201
    # schema_invalid, kept in /rejections
    assert post_delivery(client, platform.delivery(points=0)).status_code == 422
    version = activate(ledger, spec_document())
    decision = client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                          headers=as_("credit_system")).json
    assert client.post(f"{API}/gifts", headers=as_("admin"), json=dict(
        zip(("sku", "name", "points_cost"), GIFT, strict=True))).status_code == 201
    assert client.put(f"{API}/branches/{BRANCH}/stock/{GIFT[0]}", headers=as_("supervisor"),
                      json={"quantity": 10, "reason": "delivery"}).status_code == 200
    redemptions = [client.post(f"{API}/redemptions", headers=as_("teller", **{
        "Idempotency-Key": key}), json={"resident": RESIDENT_A, "platform": PLATFORM,
                                        "sku": GIFT[0], "quantity": 1}).json
                   for key in ("seed-1", "seed-2")]
    assert client.post(f"{API}/redemptions/{redemptions[1]['redemption_id']}/reversal",
                       headers=as_("supervisor"), json={"reason": "wrong gift"}
                       ).status_code == 201
    token_id = client.get(f"{API}/tokens", headers=as_("admin")).json["items"][0]["id"]
    ledger_size, _ = sign_checkpoints(ledger)  # the ledger's log, then the audit trail's
    return Seeded(tokens, {
        "platform": PLATFORM, "event_id": f"{PLATFORM}-1", "resident": RESIDENT_A,
        "version": version, "simulation_id": 1, "decision_id": decision["decision_id"],
        "sku": GIFT[0], "branch": BRANCH, "redemption_id": redemptions[0]["redemption_id"],
        "username": user_of_role("teller"), "token_id": token_id, "key_id": platform.key_id,
        "tile": f"0/000.p/{ledger_size}", "bundle": f"000.p/{ledger_size}",
    })


def security_headers(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """SPEC §7: nosniff on every answer, no-store on every answer that needed or got a token."""
    assert response.headers.get("x-content-type-options") == ["nosniff"], "no nosniff"
    needs_token = bool(case.operation.definition.raw.get("security"))
    sent_token = "Authorization" in (case.headers or {})
    if needs_token or sent_token:
        assert response.headers.get("cache-control") == ["no-store"], "no no-store"
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          unsupported_method, security_headers]


def _schema(app: Flask) -> BaseSchema:
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)


def _coverage_cases(schema: BaseSchema, operation: APIOperation, headers: dict[str, str],
                    known: dict[str, Any]) -> Iterator[Case]:
    """schemathesis' coverage phase: deterministic valid and invalid requests (each property's
    boundaries, wrong types, missing and unexpected properties, methods the path does not take,
    other content types), sent with this role's token and, where the path is valid, on the
    seeded ids."""
    for case in schema.iter_coverage_cases(
            operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation):
        data = case.meta.phase.data if case.meta is not None else None
        assert isinstance(data, CoveragePhaseData)
        if headers and data.parameter == REQUEST_ID_HEADER:
            # Read before any route, the same for every operation and role: its variants go
            # once, with the anonymous run, not again under each role's token (x9 the cases).
            continue
        if data.parameter_location != ParameterLocation.PATH:
            case.path_parameters = {name: known.get(name, value)
                                    for name, value in (case.path_parameters or {}).items()}
        if headers and data.parameter != "Authorization":
            case.headers = {**(case.headers or {}), **headers}
        yield case


def _explore(strategy: st.SearchStrategy[Case], examples: int) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def call(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    call()


def _strategies(operation: APIOperation, headers: dict[str, str], known: dict[str, Any]
                ) -> list[st.SearchStrategy[Case]]:
    """Random valid and invalid requests on the seeded ids."""
    on_known_ids = {parameter.name: known[parameter.name]
                    for parameter in operation.path_parameters if parameter.name in known}
    if headers:  # a role's run: the request id given, not generated (see _coverage_cases)
        headers = {**headers, REQUEST_ID_HEADER: "property-test"}
    return [operation.as_strategy(mode, headers=headers, path_parameters=on_known_ids)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]


def _call(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)


def _failures_of(operation: APIOperation, role: str | None, seeded: Seeded,
                 schema: BaseSchema) -> Iterator[str]:
    headers = {} if role is None else bearer(seeded.tokens.by_role[role])
    allowed = operation.definition.raw.get("x-roles")
    tries: list[Callable[[], None]]
    if allowed is not None and role not in allowed:
        # Refused before its input is read: one request shows the 403 is as documented.
        tries = [partial(_explore, operation.as_strategy(headers=headers), 1)]
    else:
        tries = [partial(_call, case) for case in _coverage_cases(
            schema, operation, headers, seeded.path_parameters)]
        tries += [partial(_explore, strategy, EXAMPLES)
                  for strategy in _strategies(operation, headers, seeded.path_parameters)]
    for attempt in tries:
        try:
            attempt()
        except Unsatisfiable:
            pass  # nothing to make invalid: an operation without parameters nor body
        except (FailureGroup, Exception) as error:  # every case is tried, all failures shown
            yield f"{operation.label} as {role}: {error}"


@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_answer_is_as_the_document_says(app: Flask, seeded: Seeded,
                                              role: str | None) -> None:
    schema = _schema(app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if role is not None and operation.definition.raw.get("x-roles") is None:
            continue  # public or signed: the anonymous run covers it
        failures.extend(_failures_of(operation, role, seeded, schema))
    assert not failures, "\n\n".join(failures)
