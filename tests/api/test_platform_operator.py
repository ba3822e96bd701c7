"""A platform's operator reads its own platform's events, rejections and gaps, nothing else
(SPEC §12); a monitor reads none of the bank's business."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from tests.api.support import Tokens, bearer, create_tokens
from tests.support import PlatformFixture, register_platform

API = "/api/v1"


@pytest.fixture
def tokens(ledger: Ledger, platform: PlatformFixture) -> Tokens:
    return create_tokens(ledger.sessions, operated_platform=platform.code)


@pytest.fixture
def neighbour(ledger: Ledger, platform: PlatformFixture) -> PlatformFixture:
    return register_platform(ledger.sessions, "nanyang_young", "南阳young", "南阳街道")


@pytest.fixture
def operator(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.by_role["platform_operator"])


def test_the_operator_sees_its_own_platform_and_its_gaps_only(
        client: FlaskClient, ledger: Ledger, operator: dict[str, str],
        platform: PlatformFixture, neighbour: PlatformFixture) -> None:
    ledger.ingestor.ingest([platform.delivery(seq=seq) for seq in (1, 3)])

    listed = client.get(f"{API}/platforms", headers=operator)

    assert listed.status_code == 200
    assert [(item["code"], item["gaps"]) for item in listed.json["items"]] == [
        ("lijiayuan", [{"first": 2, "last": 2}])]


def test_the_operator_reads_its_events_outcome_and_not_anothers(
        client: FlaskClient, ledger: Ledger, operator: dict[str, str],
        platform: PlatformFixture, neighbour: PlatformFixture) -> None:
    ledger.ingestor.ingest([platform.delivery(seq=1), neighbour.delivery(seq=1)])

    own = client.get(f"{API}/platforms/lijiayuan/events/lijiayuan-1", headers=operator)
    other = client.get(f"{API}/platforms/nanyang_young/events/nanyang_young-1",
                       headers=operator)

    assert own.status_code == 200 and own.json["outcome"] == "recorded"
    assert other.status_code == 403 and other.json["code"] == "wrong_platform"
    # Whether the other platform's event exists is not told either.
    missing = client.get(f"{API}/platforms/nanyang_young/events/nope", headers=operator)
    assert missing.status_code == 403


def test_the_operator_reads_its_platforms_rejections_only(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, operator: dict[str, str],
        platform: PlatformFixture, neighbour: PlatformFixture) -> None:
    ledger.ingestor.ingest([platform.delivery(seq=1, points=0),
                            neighbour.delivery(seq=1, points=0),
                            platform.delivery(seq=2, category="cooking"),
                            neighbour.delivery(seq=2, points=0)])

    mine = client.get(f"{API}/rejections", query_string={"limit": 1}, headers=operator)
    rest = client.get(f"{API}/rejections", query_string={"after": mine.json["next"]},
                      headers=operator)
    everything = client.get(f"{API}/rejections", headers=bearer(tokens.by_role["auditor"]))

    assert [item["platform"] for item in mine.json["items"] + rest.json["items"]] == [
        "lijiayuan", "lijiayuan"]
    assert rest.json["next"] is None
    assert len(everything.json["items"]) == 4


@pytest.mark.parametrize("path", ["/ledger/head", "/ledger/entries", "/gifts", "/audit",
                                  "/users", "/tokens"])
def test_neither_the_operator_nor_a_monitor_reads_the_banks_business(
        client: FlaskClient, tokens: Tokens, path: str) -> None:
    for role in ("platform_operator", "monitor"):
        response = client.get(f"{API}{path}", headers=bearer(tokens.by_role[role]))
        assert response.status_code == 403, role


def test_a_monitor_reads_health(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
