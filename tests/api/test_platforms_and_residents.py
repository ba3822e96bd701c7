"""Platforms with their seq gaps, and residents by pseudonym (SPEC §4.4, §6, §7)."""

from __future__ import annotations

from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.resident_id import pseudonym
from tests.api.support import ID_NUMBER, Tokens, bearer
from tests.support import RESIDENT_A, TEST_PEPPER, PlatformFixture, register_platform


def test_platforms_show_last_seq_and_gaps(client: FlaskClient, ledger: Ledger,
                                          tokens: Tokens, platform: PlatformFixture) -> None:
    register_platform(ledger.sessions, "nanyang_young", "南阳young", "南阳街道")
    ledger.ingestor.ingest([platform.delivery(seq=seq) for seq in (1, 2, 5, 9)])

    response = client.get("/api/v1/platforms", headers=bearer(tokens.by_role["admin"]))

    assert response.status_code == 200
    assert response.json == {"next": None, "items": [
        {"code": "lijiayuan", "name": "沥家园", "township": "瓜沥镇", "last_seq": 9,
         "gaps": [{"first": 3, "last": 4}, {"first": 6, "last": 8}]},
        {"code": "nanyang_young", "name": "南阳young", "township": "南阳街道", "last_seq": 0,
         "gaps": []},
    ]}
    assert "沥家园".encode() in response.data  # UTF-8, not \u escapes


def test_lookup_gives_the_pseudonym_of_a_valid_id_number(client: FlaskClient,
                                                         tokens: Tokens) -> None:
    response = client.post("/api/v1/residents/lookup", json={"id_number": ID_NUMBER.lower()},
                           headers=bearer(tokens.by_role["credit_system"]))
    assert response.status_code == 200
    assert response.json == {"resident": pseudonym(ID_NUMBER, TEST_PEPPER)}


def test_lookup_refuses_a_bad_id_number_without_repeating_it(client: FlaskClient,
                                                            tokens: Tokens) -> None:
    wrong_check = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    response = client.post("/api/v1/residents/lookup", json={"id_number": wrong_check},
                           headers=bearer(tokens.by_role["teller"]))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == {"id_number": "the ID number's check character is wrong"}
    assert wrong_check not in response.get_data(as_text=True)


def test_balances_per_platform(client: FlaskClient, ledger: Ledger, tokens: Tokens,
                               platform: PlatformFixture) -> None:
    ledger.ingestor.ingest([
        platform.delivery(seq=1, points=30),
        platform.delivery(seq=2, points=5, type="points.deducted"),
        platform.delivery(seq=3, points=30, type="points.revoked", revokes="lijiayuan-1"),
    ])
    response = client.get(f"/api/v1/residents/{RESIDENT_A}",
                          headers=bearer(tokens.by_role["supervisor"]))
    assert response.json == {"resident": RESIDENT_A, "balances": [
        {"platform": "lijiayuan", "spendable": -5, "earned": 30, "deducted": 5, "revoked": 30,
         "redeemed": 0},
    ]}


def test_a_resident_without_entries_has_no_balances(client: FlaskClient,
                                                    tokens: Tokens) -> None:
    response = client.get(f"/api/v1/residents/{'c' * 64}",
                          headers=bearer(tokens.by_role["auditor"]))
    assert response.status_code == 200
    assert response.json == {"resident": "c" * 64, "balances": []}


def test_a_resident_that_is_not_a_pseudonym_is_refused_without_echo(client: FlaskClient,
                                                                    tokens: Tokens) -> None:
    for path in (f"/api/v1/residents/{ID_NUMBER}", f"/api/v1/residents/{'A' * 64}/entries"):
        response = client.get(path, headers=bearer(tokens.by_role["risk_officer"]))
        assert response.status_code == 422
        assert set(response.json["errors"]) == {"resident"}
        assert ID_NUMBER not in response.get_data(as_text=True)
