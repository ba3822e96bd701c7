"""The ledger through the API: head, entries, pagination, and a chain an auditor can recompute."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.domain.entry import GENESIS_HASH, chain_hash, leaf_hash
from tests.api.support import Tokens, bearer
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture


def _walk(client: FlaskClient, path: str, token: str, limit: int) -> list[dict[str, Any]]:
    """Follow `next` from the first page to the last, as a client would."""
    items: list[dict[str, Any]] = []
    url = f"{path}?limit={limit}"
    for _ in range(1000):
        page = client.get(url, headers=bearer(token))
        assert page.status_code == 200
        items.extend(page.json["items"])
        if page.json["next"] is None:
            return items
        url = f"{path}?limit={limit}&after={page.json['next']}"
    raise AssertionError("next never became null")


def _record(ledger: Ledger, source: PlatformFixture, count: int, **overrides: Any) -> None:
    ledger.ingestor.ingest([source.delivery(**overrides) for _ in range(count)])


def test_head_of_an_empty_ledger_is_genesis(client: FlaskClient, tokens: Tokens) -> None:
    head = client.get("/api/v1/ledger/head", headers=bearer(tokens.by_role["teller"]))
    assert head.json == {"seq": 0, "entry_hash": "0" * 64, "count": 0}


def test_next_walks_every_entry_exactly_once(client: FlaskClient, ledger: Ledger,
                                             tokens: Tokens, platform: PlatformFixture) -> None:
    _record(ledger, platform, 7)
    for limit in (1, 3, 7, 1000):
        entries = _walk(client, "/api/v1/ledger/entries", tokens.by_role["auditor"], limit)
        assert [entry["seq"] for entry in entries] == list(range(1, 8))


def test_an_auditor_recomputes_the_chain_from_the_api_alone(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    _record(ledger, platform, 3)
    _record(ledger, platform, 2, type="points.deducted", resident=RESIDENT_B)
    entries = _walk(client, "/api/v1/ledger/entries", tokens.by_role["auditor"], 2)

    previous = GENESIS_HASH
    for entry in entries:
        document = {name: value for name, value in entry.items() if name != "entry_hash"}
        previous = chain_hash(previous, leaf_hash(document))
        assert entry["entry_hash"] == previous.hex()
    head = client.get("/api/v1/ledger/head", headers=bearer(tokens.by_role["auditor"])).json
    assert head == {"seq": 5, "entry_hash": previous.hex(), "count": 5}


def test_resident_entries_are_only_theirs_in_seq_order(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    _record(ledger, platform, 2)
    _record(ledger, platform, 2, resident=RESIDENT_B)
    _record(ledger, platform, 1)
    entries = _walk(client, f"/api/v1/residents/{RESIDENT_A}/entries",
                    tokens.by_role["teller"], 2)
    assert [entry["seq"] for entry in entries] == [1, 2, 5]
    assert {entry["resident"] for entry in entries} == {RESIDENT_A}


def test_rejections_walk_by_id_and_filter_by_reason(
        client: FlaskClient, tokens: Tokens, ledger: Ledger, platform: PlatformFixture) -> None:
    _record(ledger, platform, 1, points=0)
    _record(ledger, platform, 1, platform="nowhere")
    _record(ledger, platform, 1, points=0)
    token = tokens.by_role["admin"]
    everything = _walk(client, "/api/v1/rejections", token, 1)
    assert [item["reason"] for item in everything] == [
        "schema_invalid", "unknown_platform", "schema_invalid"]
    ids = [item["id"] for item in everything]
    assert ids == sorted(set(ids))
    schema_only = client.get("/api/v1/rejections?reason=schema_invalid", headers=bearer(token))
    assert [item["id"] for item in schema_only.json["items"]] == [ids[0], ids[2]]


@pytest.mark.parametrize("path", ["/api/v1/ledger/entries", "/api/v1/rejections",
                                  f"/api/v1/residents/{RESIDENT_A}/entries"])
@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=ten", "after=-1"])
def test_a_page_size_outside_1_to_1000_is_refused(client: FlaskClient, tokens: Tokens,
                                                  path: str, query: str) -> None:
    response = client.get(f"{path}?{query}", headers=bearer(tokens.by_role["auditor"]))
    assert response.status_code == 422
    assert set(response.json["errors"]) == {query.split("=")[0]}


def test_an_unknown_rejection_reason_filter_is_refused(client: FlaskClient,
                                                       tokens: Tokens) -> None:
    response = client.get("/api/v1/rejections?reason=bogus",
                          headers=bearer(tokens.by_role["auditor"]))
    assert response.status_code == 422 and "reason" in response.json["errors"]
