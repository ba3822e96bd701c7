"""Headers on every answer, and what the logs never hold (SPEC §7, §4.4)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from ledger.contract.personal_data import mask_id_numbers
from ledger.contract.redaction import RedactingFilter, redact
from tests.api.support import BRANCH, ID_NUMBER, Tokens, bearer

API = "/api/v1"
RESIDENT = "a" * 64


@pytest.mark.parametrize("path", [
    "/healthz", f"{API}/openapi.json", f"{API}/nothing-here", f"{API}/ledger/head",
])
def test_every_answer_says_nosniff(client: FlaskClient, path: str) -> None:
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("role", "path"), [
    ("auditor", f"{API}/ledger/entries"),  # JSON
    ("auditor", f"{API}/branches/{BRANCH}/reconciliation?date=2026-11-01"),  # CSV, below
    ("teller", f"{API}/ledger/entries"),  # 403
    ("auditor", f"{API}/ledger/entries?after=-1"),  # 422
    ("auditor", f"{API}/platforms/lijiayuan/events/nope"),  # 404
    (None, f"{API}/residents/{RESIDENT}"),  # 401: the route needs a token
])
def test_authenticated_answers_are_not_stored(client: FlaskClient, tokens: Tokens,
                                              role: str | None, path: str) -> None:
    headers = {"Accept": "text/csv"} if "reconciliation" in path else {}
    if role is not None:
        headers.update(bearer(tokens.by_role[role]))
    response = client.get(path, headers=headers)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if "reconciliation" in path:
        assert response.mimetype == "text/csv"


def test_public_answers_may_be_stored(client: FlaskClient) -> None:
    for path in ("/healthz", f"{API}/openapi.json"):
        assert "Cache-Control" not in client.get(path).headers


def test_a_token_sent_to_a_public_route_still_makes_the_answer_unstored(
        client: FlaskClient, tokens: Tokens) -> None:
    response = client.get("/healthz", headers=bearer(tokens.by_role["auditor"]))
    assert response.headers["Cache-Control"] == "no-store"


def test_a_token_in_the_query_string_does_not_authenticate(client: FlaskClient,
                                                            tokens: Tokens) -> None:
    response = client.get(f"{API}/ledger/head",
                          query_string={"access_token": tokens.by_role["auditor"]})
    assert response.status_code == 401


@pytest.mark.parametrize("line", [
    f"GET /api/v1/residents/{ID_NUMBER} HTTP/1.1",
    f"GET /api/v1/residents/a{ID_NUMBER}/entries HTTP/1.1",
    f"GET /api/v1/residents/{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]} HTTP/1.1",
])
def test_id_numbers_in_request_lines_are_masked(line: str) -> None:
    redacted = redact(line)
    assert ID_NUMBER not in redacted.replace(" ", "")
    assert mask_id_numbers(ID_NUMBER) in redacted.replace(" ", "")


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /api/v1/ledger/head?access_token=plt_abc-DEF_123 HTTP/1.1",
     "GET /api/v1/ledger/head?access_token=[token] HTTP/1.1"),
    ("GET /api/v1/ledger/head?limit=5&ACCESS_TOKEN=anything%20at-all&x=1 HTTP/1.1",
     "GET /api/v1/ledger/head?limit=5&ACCESS_TOKEN=[token]&x=1 HTTP/1.1"),
    ("GET /api/v1/x?token=whatever HTTP/1.1", "GET /api/v1/x?token=[token] HTTP/1.1"),
    ("GET /api/v1/plt_abc123/plt%5Fdef HTTP/1.1", "GET /api/v1/[token]/[token] HTTP/1.1"),
    ("GET /api/v1/ledger/head?mytoken=kept HTTP/1.1",
     "GET /api/v1/ledger/head?mytoken=kept HTTP/1.1"),
])
def test_tokens_in_request_lines_are_redacted(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_filter_rewrites_a_formatted_record() -> None:
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                               (f"GET /api/v1/residents/x{ID_NUMBER}?access_token=plt_x "
                                "HTTP/1.1", 401, "-"), None)
    assert RedactingFilter().filter(record)
    message = record.getMessage()
    assert ID_NUMBER not in message and "plt_x" not in message
    assert message.endswith("?access_token=[token] HTTP/1.1\" 401 -")
