"""A supervisor corrects a mistake the same day, once, and closes the day (SPEC §9)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.contract.notice import NoticeType, verify_notice
from ledger.contract.webhook import public_key_bytes
from ledger.infra.db.models import LedgerEntryRow, OutboundNotice
from ledger.service.counter.redemptions import business_day
from tests.counter.conftest import A_POINTS, BRANCH, COOKWARE, OTHER_BRANCH, PLATFORM, RICE, Staff
from tests.ledger.helpers import balance
from tests.support import RESIDENT_A, RESIDENT_B

API = "/api/v1"


def _redeem(client: FlaskClient, staff: Staff, key: str, sku: str = RICE[0],
            quantity: int = 1, resident: str = RESIDENT_A) -> dict[str, Any]:
    response = client.post(f"{API}/redemptions", headers=staff.headers("teller-li", key),
                           json={"resident": resident, "platform": PLATFORM, "sku": sku,
                                 "quantity": quantity})
    assert response.status_code == 201, response.json
    document: dict[str, Any] = response.json
    return document


def _reverse(client: FlaskClient, staff: Staff, redemption_id: str, who: str) -> Any:
    return client.post(f"{API}/redemptions/{redemption_id}/reversal", headers=staff.headers(who),
                       json={"reason": "wrong gift handed over"})


def _stock(client: FlaskClient, staff: Staff, sku: str) -> int:
    items = client.get(f"{API}/branches/{BRANCH}/stock",
                       headers=staff.headers("supervisor-zhao")).json["items"]
    return next(item["quantity"] for item in items if item["sku"] == sku)


def test_a_supervisor_reverses_a_redemption_of_the_day(ledger: Ledger, client: FlaskClient,
                                                       counter: Staff) -> None:
    receipt = _redeem(client, counter, "r-1", sku=COOKWARE[0])

    response = _reverse(client, counter, receipt["redemption_id"], "supervisor-zhao")

    assert response.status_code == 201, response.json
    reversal = response.json["reversal"]
    assert (reversal["supervisor"], reversal["reason"], reversal["balance_after"]) == (
        "supervisor-zhao", "wrong gift handed over", A_POINTS)
    assert balance(ledger, RESIDENT_A, PLATFORM) == {
        "earned": A_POINTS, "deducted": 0, "revoked": 0, "redeemed": 0, "spendable": A_POINTS}
    assert _stock(client, counter, COOKWARE[0]) == 2
    with ledger.sessions() as session:
        entry = session.get(LedgerEntryRow, reversal["ledger_seq"])
        notices = session.scalars(select(OutboundNotice).order_by(OutboundNotice.id)).all()
    assert entry is not None
    assert (entry.kind, entry.points, entry.redemption_id) == (
        "points.redemption_reversed", 120, receipt["redemption_id"])
    told = [verify_notice(row.body, row.headers, public_key_bytes(ledger.ledger_key()),
                          PLATFORM) for row in notices]
    assert [(notice.type, notice.points) for notice in told] == [
        (NoticeType.REDEEMED, 120), (NoticeType.REDEMPTION_REVERSED, 120)]
    shown = client.get(f"{API}/redemptions/{receipt['redemption_id']}",
                       headers=counter.headers("teller-li")).json
    assert shown["reversal"]["ledger_seq"] == reversal["ledger_seq"]


def test_reversal_rules(ledger: Ledger, client: FlaskClient, counter: Staff) -> None:
    receipt = _redeem(client, counter, "rules-1")
    redemption_id = receipt["redemption_id"]

    assert _reverse(client, counter, redemption_id, "teller-li").status_code == 403
    other_branch = _reverse(client, counter, redemption_id, "supervisor-sun")
    assert (other_branch.status_code, other_branch.json["code"]) == (403, "wrong_branch")
    tomorrow = create_app(ledger=dataclasses.replace(
        ledger, clock=lambda: datetime.now(UTC) + timedelta(days=1))).test_client()
    next_day = _reverse(tomorrow, counter, redemption_id, "supervisor-zhao")
    assert (next_day.status_code, next_day.json["code"]) == (409, "not_same_business_day")
    assert _reverse(client, counter, redemption_id, "supervisor-zhao").status_code == 201
    twice = _reverse(client, counter, redemption_id, "supervisor-zhao")
    assert (twice.status_code, twice.json["code"]) == (409, "already_reversed")
    unknown = _reverse(client, counter, "00000000-0000-4000-8000-000000000000",
                       "supervisor-zhao")
    assert unknown.status_code == 404
    assert balance(ledger, RESIDENT_A, PLATFORM)["spendable"] == A_POINTS


def test_the_days_reconciliation_equals_the_ledgers_redemption_entries(
        ledger: Ledger, client: FlaskClient, counter: Staff) -> None:
    first = _redeem(client, counter, "day-1", sku=COOKWARE[0])
    _redeem(client, counter, "day-2", quantity=3)
    _redeem(client, counter, "day-3", quantity=1, resident=RESIDENT_B)
    assert _reverse(client, counter, first["redemption_id"], "supervisor-zhao").status_code \
        == 201
    day = business_day(datetime.now(UTC))

    response = client.get(f"{API}/branches/{BRANCH}/reconciliation", query_string={"date": day},
                          headers=counter.headers("supervisor-zhao"))

    assert response.status_code == 200, response.json
    document = response.json
    assert (document["redemptions"], document["reversals"]) == (3, 1)
    assert (document["redeemed_points"], document["reversed_points"], document["net_points"]) \
        == (120 + 120 + 40, 120, 160)
    assert document["by_sku"] == [
        {"sku": COOKWARE[0], "name": COOKWARE[1], "redeemed_quantity": 1,
         "reversed_quantity": 1, "net_quantity": 0, "redeemed_points": 120,
         "reversed_points": 120},
        {"sku": RICE[0], "name": RICE[1], "redeemed_quantity": 4, "reversed_quantity": 0,
         "net_quantity": 4, "redeemed_points": 160, "reversed_points": 0}]
    with ledger.sessions() as session:
        entries = session.scalars(select(LedgerEntryRow).where(
            LedgerEntryRow.branch == BRANCH)).all()
    redeemed = -sum(entry.points for entry in entries if entry.kind == "points.redeemed")
    reversed_ = sum(entry.points for entry in entries
                    if entry.kind == "points.redemption_reversed")
    assert (redeemed, reversed_) == (document["redeemed_points"], document["reversed_points"])
    assert sorted(item["ledger_seq"] for item in document["items"]) == sorted(
        entry.seq for entry in entries if entry.kind == "points.redeemed")

    as_csv = client.get(f"{API}/branches/{BRANCH}/reconciliation", query_string={"date": day},
                        headers={**counter.headers("auditor-qian"), "Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.mimetype == "text/csv"
    # UTF-8 with a byte order mark, which Excel on a Chinese Windows needs to read it as UTF-8.
    assert as_csv.get_data().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data().decode("utf-8-sig"))))
    assert [row["receipt_no"] for row in rows[:-1]] == [
        item["receipt_no"] for item in document["items"]]
    assert rows[0]["reversed_by"] == "supervisor-zhao"
    assert (rows[-1]["receipt_no"], rows[-1]["points"]) == ("TOTAL", "280")


def test_reconciliation_is_for_the_branchs_supervisor_and_auditors(
        client: FlaskClient, counter: Staff) -> None:
    url = f"{API}/branches/{BRANCH}/reconciliation"
    day = {"date": business_day(datetime.now(UTC))}
    other = client.get(url, query_string=day, headers=counter.headers("supervisor-sun"))
    assert (other.status_code, other.json["code"]) == (403, "wrong_branch")
    assert client.get(url, query_string=day,
                      headers=counter.headers("teller-li")).status_code == 403
    assert client.get(url, query_string={"date": "yesterday"},
                      headers=counter.headers("auditor-qian")).status_code == 422
    empty = client.get(f"{API}/branches/{OTHER_BRANCH}/reconciliation", query_string=day,
                       headers=counter.headers("supervisor-sun")).json
    assert (empty["redemptions"], empty["net_points"], empty["items"]) == (0, 0, [])


# Gift names a spreadsheet would run: ASCII and full-width signs, after spaces too, and one that
# holds the list separator of locales that write decimal commas.
FORMULA_NAMES = ("=HYPERLINK(\"http://x\",\"ok\")", "+1+1", "-2+3", "@SUM(A1:A9)",
                 "＝1+1", "＋1", "－1", "＠SUM(A1)", " ＝cmd", "\u3000=cmd", "大米;面粉")


def test_the_reconciliation_csv_gives_spreadsheets_text_not_formulas(
        client: FlaskClient, counter: Staff) -> None:
    receipts = []
    for number, name in enumerate(FORMULA_NAMES):
        sku = f"F{number}"
        assert client.post(f"{API}/gifts", headers=counter.headers("admin-zhou"), json={
            "sku": sku, "name": name, "points_cost": 1}).status_code == 201
        assert client.put(f"{API}/branches/{BRANCH}/stock/{sku}",
                          headers=counter.headers("supervisor-zhao"),
                          json={"quantity": 1, "reason": "=1+1"}).status_code == 200
        receipts.append(_redeem(client, counter, f"formula-{number}", sku=sku))
    reversal = client.post(f"{API}/redemptions/{receipts[0]['redemption_id']}/reversal",
                           headers=counter.headers("supervisor-zhao"),
                           json={"reason": "＠reason;with=formula"})
    assert reversal.status_code == 201

    text = client.get(f"{API}/branches/{BRANCH}/reconciliation",
                      query_string={"date": business_day(datetime.now(UTC))},
                      headers={**counter.headers("auditor-qian"), "Accept": "text/csv"}
                      ).get_data().decode("utf-8-sig")

    lines = text.split("\r\n")[:-1]
    quoted_cell = r'"(?:[^"]|"")*"'
    assert all(re.fullmatch(rf"{quoted_cell}(?:,{quoted_cell})*", line) for line in lines)
    rows = list(csv.DictReader(io.StringIO(text)))[:-1]
    assert sorted(row["gift"] for row in rows) == sorted(f"'{name.strip()}" if ";" not in name
                                                         else name for name in FORMULA_NAMES)
    assert '"大米;面粉"' in text
    assert "'＠reason;with=formula" in {row["reversal_reason"] for row in rows}
