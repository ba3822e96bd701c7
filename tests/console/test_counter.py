"""The counter in Chromium (SPEC §13), as a teller works it: look a resident up by ID number,
see their points and the gifts, redeem, print the receipt. A form sent again redeems once, a
refusal shows its figures and changes nothing, and the ID number is never in an address or a
page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Response, expect

from ledger.bootstrap import Ledger
from tests.console.counter_support import (
    COOKWARE,
    COOKWARE_STOCK,
    ID_NUMBER,
    POINTS,
    RICE,
    RICE_STOCK,
    Counter,
    open_counter,
)
from tests.console.support import Requests
from tests.console.test_sign_in import sign_in

# One digit typed wrong: the check character gives it away.
MISTYPED = ID_NUMBER[:-2] + ("0" if ID_NUMBER[-2] != "0" else "1") + ID_NUMBER[-1]
RECEIPT_URL = re.compile(r"/console/counter/receipts/[0-9a-f-]{36}(\?again=1)?$")


@dataclass
class Pages:
    """The HTML of every page the browser was sent."""

    html: list[str] = field(default_factory=list)

    def record(self, response: Response) -> None:
        if response.request.resource_type == "document" and not 300 <= response.status < 400:
            # A page already left may have had its body let go by Chromium.
            with contextlib.suppress(PlaywrightError):
                self.html.append(response.text())


@pytest.fixture
def counter(console_ledger: Ledger) -> Counter:
    return open_counter(console_ledger)


@pytest.fixture
def pages_seen(page: Page) -> Iterator[Pages]:
    seen = Pages()
    page.on("response", seen.record)
    yield seen


def look_up(page: Page, id_number: str = ID_NUMBER) -> None:
    page.goto("/console/counter")
    page.get_by_label("身份证号").fill(id_number)
    page.get_by_role("button", name="查询").click()


def line(page: Page, header: str) -> Locator:
    """A row of the receipt, by its header."""
    return page.locator(".receipt-lines tr").filter(
        has=page.get_by_role("rowheader", name=header, exact=True))


def redeem(page: Page, gift: str, quantity: int) -> None:
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=gift))
    row.get_by_label("数量").fill(str(quantity))
    row.get_by_role("button", name="兑换").click()


def test_a_teller_looks_up_redeems_and_prints_the_receipt(
        page: Page, counter: Counter, requests_seen: Requests, pages_seen: Pages) -> None:
    sign_in(page, "li.teller")
    look_up(page, MISTYPED)

    expect(page).to_have_url(re.compile(r"/console/counter$"))
    expect(page.locator("#id_number-errors")).to_have_text(re.compile("校验码"))  # beside it
    expect(page.get_by_label("身份证号")).to_have_value("")  # not shown again
    expect(page.get_by_label("身份证号")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_role("button", name="查询").click()

    expect(page).to_have_url(re.compile(r"/console/counter/residents/[0-9a-f]{64}\?form="))
    assert ID_NUMBER not in page.content()
    points = page.get_by_role("region", name="积分", exact=True)
    expect(points.get_by_role("row", name=re.compile("沥家园"))).to_contain_text("1,000")
    rice = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=RICE[1]))
    expect(rice).to_contain_text(str(RICE[2]))  # points each
    expect(rice).to_contain_text(str(RICE_STOCK))  # in stock at this branch

    redeem(page, RICE[1], 2)

    expect(page).to_have_url(RECEIPT_URL)
    receipt = page.locator(".receipt-lines")
    expect(line(page, "凭条号")).to_contain_text(
        re.compile(r"XS-GUALI-\d{8}-0001"))
    expect(line(page, "礼品")).to_contain_text(RICE[1])
    expect(line(page, "数量")).to_contain_text("2")
    expect(line(page, "积分")).to_contain_text("80")
    expect(line(page, "兑换后余额")).to_contain_text(f"{POINTS - 80}")
    expect(line(page, "网点")).to_contain_text("萧山农商银行瓜沥支行")
    expect(line(page, "柜员")).to_contain_text("li.teller")
    expect(line(page, "时间")).to_contain_text(
        re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"))
    expect(page.locator("body")).to_have_class("receipt")  # 80 mm roll when printed
    expect(page.get_by_role("button", name="打印")).to_have_attribute("data-print", "")

    page.emulate_media(media="print")
    expect(receipt).to_contain_text(RICE[1])
    expect(receipt).to_contain_text(f"{POINTS - 80}")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.locator(".masthead")).to_be_hidden()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="改用 A4 纸打印").click()
    expect(page.locator("body")).not_to_have_class("receipt")
    expect(page.locator(".receipt-lines")).to_contain_text(RICE[1])

    assert counter.redemptions() == 1 and counter.stock(RICE[0]) == RICE_STOCK - 2
    for typed in (ID_NUMBER, MISTYPED):
        assert requests_seen.seen and not [url for url in requests_seen.seen if typed in url]
        assert len(pages_seen.html) >= 4
        assert not [html for html in pages_seen.html if typed in html]


def test_a_form_sent_again_redeems_once(page: Page, counter: Counter) -> None:
    sign_in(page, "li.teller")
    look_up(page)
    entries = counter.entries()
    rice = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=RICE[1]))
    form = rice.locator("form")
    action = form.get_attribute("action")
    fields = form.evaluate("form => Object.fromEntries(new FormData(form))")
    redeem(page, RICE[1], 1)
    expect(page).to_have_url(RECEIPT_URL)
    first = page.locator(".receipt-lines").inner_text()

    page.reload()  # the receipt again, nothing more
    page.go_back()  # to the resident's page, rendered again with the same form
    expect(page).to_have_url(re.compile(r"/residents/[0-9a-f]{64}\?form="))
    redeem(page, RICE[1], 1)

    expect(page).to_have_url(RECEIPT_URL)
    expect(page.get_by_role("status")).to_contain_text("没有重复兑换")
    assert page.locator(".receipt-lines").inner_text() == first
    assert action is not None
    replayed = page.request.post(action, form={"quantity": "1", **fields})  # the POST, again
    assert replayed.ok and "again=1" in replayed.url
    assert counter.redemptions() == 1
    assert counter.entries() == entries + 1
    assert counter.stock(RICE[0]) == RICE_STOCK - 1


def test_a_refusal_shows_balance_and_cost_and_changes_nothing(page: Page,
                                                              counter: Counter) -> None:
    sign_in(page, "li.teller")
    look_up(page)
    entries = counter.entries()

    redeem(page, COOKWARE[1], 9)  # 9 × 120 = 1,080 points, more than the resident has

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("余额 1,000")
    expect(alert).to_contain_text("1,080")
    expect(alert).to_contain_text("本次未兑换")

    redeem(page, RICE[1], RICE_STOCK + 1)  # 11 × 40 = 440 points, but 10 in stock

    expect(page.get_by_role("alert")).to_contain_text(
        f"剩余 {RICE_STOCK} 件，需要 {RICE_STOCK + 1} 件")
    assert counter.redemptions() == 0 and counter.entries() == entries
    assert counter.stock(COOKWARE[0]) == COOKWARE_STOCK and counter.stock(RICE[0]) == RICE_STOCK


def test_the_counter_in_english(page: Page, counter: Counter) -> None:
    sign_in(page, "li.teller", lang="en")
    page.goto("/console/counter")
    page.get_by_label("ID number").fill(ID_NUMBER)
    page.get_by_role("button", name="Look up").click()

    expect(page.get_by_role("heading", name="Gifts")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=COOKWARE[1]))
    row.get_by_label("Quantity").fill("9")
    row.get_by_role("button", name="Redeem").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Not enough points of 沥家园: the balance is 1,000, the gifts cost 1,080. "
        "Nothing was redeemed.")
    address = page.url

    page.get_by_role("link", name="简体中文").click()  # from the refusal, at the form's address

    expect(page.get_by_role("heading", name="礼品")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/residents/[0-9a-f]{64}\?form=[\w-]{16}&lang=zh-CN$"))
    assert page.url.split("?form=")[1][:16] == address.split("?form=")[1][:16]
