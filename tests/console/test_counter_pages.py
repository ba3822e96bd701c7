"""The counter's and the branch's pages through the Flask test client, on SQLite and
PostgreSQL, with a clock the test moves (SPEC §9, §13): the ID number only in a POST body; a
redemption form sent again redeems once, a form reused for another redemption is refused;
receipts and the branch page for their own branch only; a reversal on another day and a count
that changes nothing are refused and change nothing; a count left as shown does not undo a
redemption made meanwhile; the reconciliation's CSV is the API's."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.console.counter import labels
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.service import access, administration
from tests.conftest import make_settings
from tests.console.counter_support import (
    COOKWARE,
    COOKWARE_STOCK,
    ID_NUMBER,
    RESIDENT,
    RICE,
    RICE_STOCK,
    Counter,
    form_fields,
    open_counter,
)
from tests.console.support import ACTOR, BRANCH, PASSWORD, PLATFORM

START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OTHER_BRANCH = "XS-NANYANG"
PEOPLE = (("li.teller", "teller", BRANCH, True), ("wang.supervisor", "supervisor", BRANCH, True),
          ("chen.teller", "teller", OTHER_BRANCH, True), ("zhou.admin", "admin", None, False))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def clocked(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    """Only the people these tests sign in as have a password: hashing one takes a while."""
    built = build(make_settings(database_url, tmp_path=tmp_path), clock)
    with built.sessions.begin() as session:
        administration.add_branch(session, ACTOR, BRANCH, "萧山农商银行瓜沥支行", START)
        administration.add_branch(session, ACTOR, OTHER_BRANCH, "萧山农商银行南阳支行", START)
        administration.add_platform(session, ACTOR, PLATFORM, "沥家园", "瓜沥镇", START)
        for username, role, branch, password in PEOPLE:
            administration.add_user(session, ACTOR, username, role, branch, None, START)
            if password:
                administration.set_password(session, ACTOR, username, PASSWORD, START)
    yield built
    built.close()


@pytest.fixture
def counter(clocked: Ledger) -> Counter:
    return open_counter(clocked)


@pytest.fixture
def client(clocked: Ledger) -> FlaskClient:
    return create_app(ledger=clocked).test_client()


def csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def sign_in(client: FlaskClient, username: str) -> None:
    response = client.post("/console/login", data={
        "csrf_token": csrf(client, "/console/login"), "username": username,
        "password": PASSWORD})
    assert response.status_code == 302


def resident_page(client: FlaskClient) -> tuple[str, str]:
    """The resident's page, opened afresh: its address and its HTML."""
    response = client.get(f"/console/counter/residents/{RESIDENT}")
    assert response.status_code == 303
    address = response.headers["Location"]
    return address, client.get(address).get_data(as_text=True)


def redemption_form(address: str, html: str, sku: str) -> tuple[str, dict[str, str]]:
    word = address.rsplit("form=", 1)[1]
    action = f"/console/counter/residents/{RESIDENT}/gifts/{sku}?form={word}"
    return action, form_fields(html, action.replace("&", "&amp;"))


def test_the_id_number_travels_in_the_post_body_only(
        client: FlaskClient, counter: Counter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(client, "li.teller")
    token = csrf(client, "/console/counter")

    found = client.post("/console/counter", data={"csrf_token": token, "id_number": ID_NUMBER})
    mistyped = ID_NUMBER[:6] + "19801301" + ID_NUMBER[14:]  # month 13
    refused = client.post("/console/counter", data={"csrf_token": token, "id_number": mistyped})

    assert found.status_code == 303
    assert found.headers["Location"] == f"/console/counter/residents/{RESIDENT}"
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "身份证号中的出生日期不存在" in page
    assert mistyped not in page and ID_NUMBER not in client.get(found.headers["Location"],
                                                                 follow_redirects=True).text
    assert not [record for record in caplog.records
                if ID_NUMBER in record.getMessage() or mistyped in record.getMessage()]


def test_a_form_sent_twice_redeems_once_and_a_new_page_redeems_again(
        client: FlaskClient, counter: Counter) -> None:
    sign_in(client, "li.teller")
    address, html = resident_page(client)
    action, fields = redemption_form(address, html, RICE[0])

    first = client.post(action, data=fields)
    again = client.post(action, data=fields)
    reopened = client.get(address).get_data(as_text=True)  # back: the same page, same keys
    _, same = redemption_form(address, reopened, RICE[0])
    from_back = client.post(action, data=same)

    assert first.status_code == again.status_code == from_back.status_code == 303
    receipt = first.headers["Location"]
    assert again.headers["Location"] == from_back.headers["Location"] == receipt + "?again=1"
    assert counter.redemptions() == 1 and counter.stock(RICE[0]) == RICE_STOCK - 1
    entries = reopened.split('id="entries-heading"', 1)[1]
    newest = re.findall(r"<tr>(.*?)</tr>", entries, re.DOTALL)[1]  # after the header row
    assert "柜台兑换" in newest and f"-{RICE[2]}" in newest

    other_address, other_html = resident_page(client)  # "another redemption": a new page
    other_action, other_fields = redemption_form(other_address, other_html, RICE[0])
    assert other_fields[f"{RICE[0]}-key"] != fields[f"{RICE[0]}-key"]
    assert client.post(other_action, data=other_fields).status_code == 303
    assert counter.redemptions() == 2 and counter.stock(RICE[0]) == RICE_STOCK - 2


def test_a_form_reused_for_another_redemption_is_refused(client: FlaskClient,
                                                         counter: Counter) -> None:
    sign_in(client, "li.teller")
    address, html = resident_page(client)
    action, fields = redemption_form(address, html, RICE[0])
    assert client.post(action, data=fields).status_code == 303
    entries = counter.entries()

    refused = client.post(action, data={**fields, f"{RICE[0]}-quantity": "3"})

    assert refused.status_code == 422
    assert "这张兑换单已用于另一笔兑换" in refused.get_data(as_text=True)
    assert counter.redemptions() == 1 and counter.entries() == entries
    assert counter.stock(RICE[0]) == RICE_STOCK - 1


def test_a_quantity_out_of_bounds_is_refused_beside_the_field(client: FlaskClient,
                                                              counter: Counter) -> None:
    sign_in(client, "li.teller")
    address, html = resident_page(client)
    action, fields = redemption_form(address, html, RICE[0])

    refused = client.post(action, data={**fields, f"{RICE[0]}-quantity": "0"})

    assert refused.status_code == 422
    assert re.search(r'id="RICE-5KG-quantity-errors">每次 1 至 20 件。',
                     refused.get_data(as_text=True))
    assert counter.redemptions() == 0


def test_receipts_and_the_branch_page_are_for_their_own_branch(client: FlaskClient,
                                                               counter: Counter) -> None:
    receipt = f"/console/counter/receipts/{counter.redeem(RICE[0])['redemption_id']}"
    sign_in(client, "li.teller")
    assert client.get(receipt).status_code == 200
    assert client.get("/console/branch").status_code == 403  # a teller is no supervisor
    assert client.get(f"/console/counter/receipts/{'0' * 8}-0000-0000-0000-{'0' * 12}"
                      ).status_code == 404

    sign_in(client, "chen.teller")  # another branch's teller

    assert client.get(receipt).status_code == 403
    assert client.get("/console/counter").status_code == 200


def test_a_reversal_the_next_day_is_refused_and_changes_nothing(
        client: FlaskClient, counter: Counter, clock: Clock) -> None:
    redemption = counter.redeem(RICE[0])
    clock.now = START + timedelta(days=1)
    sign_in(client, "wang.supervisor")
    path = f"/console/branch/redemptions/{redemption['redemption_id']}/reversal"
    prefix = redemption["redemption_id"]

    refused = client.post(path, data={"csrf_token": csrf(client, "/console/branch"),
                                      f"{prefix}-reason": "顾客退回"})

    assert refused.status_code == 409
    assert "兑换只能在办理当天（北京时间）撤销" in refused.get_data(as_text=True)
    assert counter.reversals() == 0 and counter.stock(RICE[0]) == RICE_STOCK - 1


def test_a_count_left_as_shown_does_not_undo_a_redemption_made_meanwhile(
        client: FlaskClient, counter: Counter) -> None:
    sign_in(client, "wang.supervisor")
    fields = form_fields(client.get("/console/branch").get_data(as_text=True),
                         "/console/branch/stock")
    counter.redeem(RICE[0], 3)  # while the supervisor counts the cookware

    counted = client.post("/console/branch/stock", data={
        **fields, f"count-{COOKWARE[0]}": "7", "reason": "盘点"})

    assert counted.status_code == 303
    assert counter.stock(COOKWARE[0]) == 7
    assert counter.stock(RICE[0]) == RICE_STOCK - 3


def test_a_count_that_changes_nothing_is_refused(client: FlaskClient, counter: Counter) -> None:
    sign_in(client, "wang.supervisor")
    fields = form_fields(client.get("/console/branch").get_data(as_text=True),
                         "/console/branch/stock")

    without_reason = client.post("/console/branch/stock", data={
        **fields, f"count-{COOKWARE[0]}": "7"})
    unchanged = client.post("/console/branch/stock", data={**fields, "reason": "盘点"})

    assert without_reason.status_code == unchanged.status_code == 422
    assert "请说明库存变动原因" in without_reason.get_data(as_text=True)
    assert "填写的数量与现有库存相同" in unchanged.get_data(as_text=True)
    assert counter.stock(COOKWARE[0]) == COOKWARE_STOCK
    # The language links of that page lead back to the branch's page.
    english = client.get("/console/branch/stock?lang=en")
    assert english.status_code == 303 and english.headers["Location"] == "/console/branch?lang=en"


def test_the_reconciliation_csv_is_the_apis(client: FlaskClient, counter: Counter,
                                            clocked: Ledger) -> None:
    counter.redeem(RICE[0], 2)
    counter.redeem(COOKWARE[0])
    day = "2026-12-07"
    with clocked.sessions.begin() as session:
        token, _ = access.create_token(session, "wang.supervisor", START)
    api = client.get(f"/api/v1/branches/{BRANCH}/reconciliation?date={day}",
                     headers={"Authorization": f"Bearer {token}", "Accept": "text/csv"})
    sign_in(client, "wang.supervisor")

    page = client.get(f"/console/branch/reconciliation.csv?date={day}")

    assert page.status_code == 200 and page.mimetype == "text/csv"
    assert page.data == api.data
    assert page.headers["Content-Disposition"] == api.headers["Content-Disposition"]
    assert b"RICE-5KG" in page.data and b"COOKWARE" in page.data
    assert client.get("/console/branch/reconciliation?date=2026-02-30").status_code == 422
    assert client.get("/console/branch/reconciliation.csv?date=2026-02-30").status_code == 404


@pytest.mark.parametrize("typed", [
    "3301091980",  # too short
    "3301091980010112AX",  # a letter among the digits
    "330109" + "19801301" + "1234",  # no 13th month
    "330109" + "18890101" + "1234",  # born before 1900
    ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"),  # wrong check character
])
def test_every_id_number_problem_has_its_own_sentence(typed: str) -> None:
    """Each sentence of ledger.contract.resident_id has its translation at the counter."""
    with pytest.raises(InvalidIdNumber) as raised:
        pseudonym(typed, "pepper")

    assert str(raised.value) in labels.ID_NUMBER_PROBLEMS
