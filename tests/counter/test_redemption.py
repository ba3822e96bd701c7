"""A teller serves a resident from ID card to receipt (SPEC §9): points and stock change together
or not at all, every refusal says why with its figures, and a retried request debits once."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.bootstrap import Ledger
from ledger.contract.notice import NoticeType, verify_notice
from ledger.contract.webhook import public_key_bytes
from ledger.infra.db.models import LedgerEntryRow, OutboundNotice, StockChange
from ledger.service.chain_audit import audit_chain
from tests.api.support import ID_NUMBER
from tests.counter.conftest import (
    A_POINTS,
    BRANCH,
    COOKWARE,
    OTHER_BRANCH,
    PLATFORM,
    RICE,
    Staff,
)
from tests.ledger.helpers import balance, contributions
from tests.support import RESIDENT_A, RESIDENT_B

API = "/api/v1"


def _redeem(client: FlaskClient, staff: Staff, key: str | None, teller: str = "teller-li",
            **body: Any) -> Any:
    document = {"resident": RESIDENT_A, "platform": PLATFORM, "sku": RICE[0], "quantity": 1,
                **body}
    return client.post(f"{API}/redemptions", headers=staff.headers(teller, key), json=document)


def _stock(client: FlaskClient, staff: Staff, sku: str, branch: str = BRANCH) -> int:
    response = client.get(f"{API}/branches/{branch}/stock", headers=staff.headers("admin-zhou"))
    assert response.status_code == 200, response.json
    return next((item["quantity"] for item in response.json["items"] if item["sku"] == sku), 0)


def _state(ledger: Ledger, client: FlaskClient, staff: Staff) -> tuple[Any, ...]:
    """Everything a redemption changes."""
    with ledger.sessions() as session:
        entries = session.scalar(select(func.count()).select_from(LedgerEntryRow))
        notices = session.scalar(select(func.count()).select_from(OutboundNotice))
    return (balance(ledger, RESIDENT_A, PLATFORM)["spendable"], _stock(client, staff, RICE[0]),
            _stock(client, staff, COOKWARE[0]), entries, notices)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == code, response.json
    document: dict[str, Any] = response.json
    return document


def test_from_id_card_to_receipt(ledger: Ledger, client: FlaskClient, counter: Staff) -> None:
    looked_up = client.post(f"{API}/residents/lookup", headers=counter.headers("teller-li"),
                            json={"id_number": ID_NUMBER})
    assert looked_up.status_code == 200  # the teller's first step: ID card → pseudonym
    contribution_before = contributions(ledger)

    response = _redeem(client, counter, "receipt-1", resident=RESIDENT_A, sku=COOKWARE[0],
                       quantity=2)

    assert response.status_code == 201, response.json
    receipt = response.json
    assert (receipt["points"], receipt["balance_after"]) == (240, A_POINTS - 240)
    assert re.fullmatch(rf"{BRANCH}-\d{{8}}-0001", receipt["receipt_no"])
    assert response.headers["Location"].endswith(f"/redemptions/{receipt['redemption_id']}")
    assert balance(ledger, RESIDENT_A, PLATFORM) == {
        "earned": A_POINTS, "deducted": 0, "revoked": 0, "redeemed": 240,
        "spendable": A_POINTS - 240}
    # Spending is not misbehaviour: the contribution the rules read is untouched.
    assert contributions(ledger) == contribution_before
    assert _stock(client, counter, COOKWARE[0]) == 0
    with ledger.sessions() as session:
        entry = session.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.seq.desc())
                                .limit(1)).one()
        changes = session.scalars(select(StockChange).where(StockChange.sku == COOKWARE[0])
                                  .order_by(StockChange.id)).all()
        assert audit_chain(session).intact
    assert (entry.kind, entry.points, entry.redemption_id, entry.branch, entry.seq) == (
        "points.redeemed", -240, receipt["redemption_id"], BRANCH, receipt["ledger_seq"])
    assert [(change.delta, change.quantity_after, change.actor, change.reason)
            for change in changes] == [
        (2, 2, "supervisor-zhao", "delivery from head office"),
        (-2, 0, "teller-li", f"redemption {receipt['receipt_no']}")]


def test_the_platform_is_told_in_a_signed_notice(ledger: Ledger, client: FlaskClient,
                                                 counter: Staff) -> None:
    receipt = _redeem(client, counter, "notice-1", quantity=3).json

    with ledger.sessions() as session:
        (row,) = session.scalars(select(OutboundNotice)).all()
    notice = verify_notice(row.body, row.headers, public_key_bytes(ledger.ledger_key()),
                           PLATFORM)
    assert (notice.type, notice.points, notice.resident, notice.receipt_no, notice.branch,
            notice.redemption_id, notice.ledger_seq) == (
        NoticeType.REDEEMED, 120, RESIDENT_A, receipt["receipt_no"], BRANCH,
        receipt["redemption_id"], receipt["ledger_seq"])
    assert row.routing_key == f"{PLATFORM}.points.redeemed"
    assert row.published_at is None


def test_receipts_count_up_per_branch_and_day(client: FlaskClient, counter: Staff) -> None:
    numbers = [_redeem(client, counter, f"count-{index}").json["receipt_no"]
               for index in range(3)]
    assert [number.rsplit("-", 1)[1] for number in numbers] == ["0001", "0002", "0003"]


def test_a_retried_request_gives_the_same_receipt_and_debits_once(
        ledger: Ledger, client: FlaskClient, counter: Staff) -> None:
    first = _redeem(client, counter, "retry-1", quantity=2)
    again = _redeem(client, counter, "retry-1", quantity=2)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance(ledger, RESIDENT_A, PLATFORM)["spendable"] == A_POINTS - 80
    assert _stock(client, counter, RICE[0]) == 8


def test_the_same_key_for_another_redemption_is_refused(ledger: Ledger, client: FlaskClient,
                                                        counter: Staff) -> None:
    _redeem(client, counter, "reused", quantity=1)
    before = _state(ledger, client, counter)

    problem = _problem(_redeem(client, counter, "reused", quantity=2), 422,
                       "idempotency_key_reused")

    assert "Idempotency-Key" in problem["errors"]
    assert _state(ledger, client, counter) == before


def test_each_refusal_says_why_and_changes_nothing(ledger: Ledger, client: FlaskClient,
                                                   counter: Staff) -> None:
    before = _state(ledger, client, counter)

    poor = _problem(_redeem(client, counter, "k1", resident=RESIDENT_B, sku=COOKWARE[0]), 409,
                    "insufficient_points")
    assert (poor["balance"], poor["cost"]) == (50, 120)
    short = _problem(_redeem(client, counter, "k2", sku=COOKWARE[0], quantity=3), 409,
                     "insufficient_stock")
    assert (short["in_stock"], short["quantity"]) == (2, 3)
    _problem(_redeem(client, counter, "k3", sku="NO-SUCH-GIFT"), 422, "unknown_sku")
    _problem(_redeem(client, counter, "k4", platform="nowhere"), 422, "unknown_platform")
    for quantity in (0, 21, -1):
        _problem(_redeem(client, counter, f"k5-{quantity}", quantity=quantity), 422,
                 "invalid_input")
    _problem(_redeem(client, counter, "k6", branch=OTHER_BRANCH), 403, "wrong_branch")
    _problem(_redeem(client, counter, "k7", teller="teller-chen"), 409, "insufficient_stock")
    _problem(_redeem(client, counter, None), 422, "idempotency_key_required")
    _problem(_redeem(client, counter, "x" * 129), 422, "idempotency_key_required")
    assert client.patch(f"{API}/gifts/{RICE[0]}", headers=counter.headers("admin-zhou"),
                        json={"active": False}).status_code == 200
    _problem(_redeem(client, counter, "k8"), 409, "gift_inactive")

    assert _state(ledger, client, counter) == before
    with ledger.sessions() as session:
        assert audit_chain(session).intact


def test_stock_is_kept_by_admins_and_the_branchs_supervisor(client: FlaskClient,
                                                            counter: Staff) -> None:
    url = f"{API}/branches/{OTHER_BRANCH}/stock/{RICE[0]}"
    body = {"quantity": 5, "reason": "stocktake"}
    assert client.put(url, headers=counter.headers("admin-zhou"), json=body).status_code == 200
    assert client.put(url, headers=counter.headers("supervisor-sun"),
                      json=body).status_code == 200
    _problem(client.put(url, headers=counter.headers("supervisor-zhao"), json=body), 403,
             "wrong_branch")
    _problem(client.put(url, headers=counter.headers("teller-chen"), json=body), 403,
             "forbidden")
    _problem(client.put(url, headers=counter.headers("admin-zhou"), json={"quantity": 5}),
             422, "invalid_input")
    _problem(client.put(url, headers=counter.headers("admin-zhou"),
                        json={"quantity": -1, "reason": "x"}), 422, "invalid_input")
    _problem(client.get(f"{API}/branches/{OTHER_BRANCH}/stock",
                        headers=counter.headers("teller-li")), 403, "wrong_branch")
    assert _stock(client, counter, RICE[0], OTHER_BRANCH) == 5
    changes = client.get(f"{API}/branches/{OTHER_BRANCH}/stock-changes",
                         headers=counter.headers("auditor-qian")).json
    assert [(change["delta"], change["quantity_after"], change["actor"], change["reason"])
            for change in changes["items"]] == [(5, 5, "admin-zhou", "stocktake"),
                                                 (0, 5, "supervisor-sun", "stocktake")]
    _problem(client.get(f"{API}/branches/{OTHER_BRANCH}/stock-changes",
                        headers=counter.headers("supervisor-zhao")), 403, "wrong_branch")


def test_the_catalog_is_the_admins(client: FlaskClient, counter: Staff) -> None:
    gifts = client.get(f"{API}/gifts", headers=counter.headers("teller-li")).json["items"]
    assert [(gift["sku"], gift["points_cost"], gift["active"]) for gift in gifts] == [
        (COOKWARE[0], 120, True), (RICE[0], 40, True)]
    _problem(client.post(f"{API}/gifts", headers=counter.headers("admin-zhou"),
                         json={"sku": RICE[0], "name": "again", "points_cost": 1}), 409,
             "gift_exists")
    _problem(client.post(f"{API}/gifts", headers=counter.headers("admin-zhou"),
                         json={"sku": "BAD SKU", "name": "x", "points_cost": 1}), 422,
             "invalid_input")
