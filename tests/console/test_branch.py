"""The branch in Chromium (SPEC §13), as its supervisor closes the day: reverse a redemption
(with its reason), count stock in, read the day's reconciliation, download its CSV (the API's
file) and print it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Locator, Page, expect

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.service import access
from tests.console.counter_support import COOKWARE, RICE, RICE_STOCK, Counter, open_counter
from tests.console.support import BRANCH
from tests.console.test_sign_in import sign_in


@pytest.fixture
def counter(console_ledger: Ledger) -> Counter:
    return open_counter(console_ledger)


def today_row(page: Page, receipt_no: str) -> Locator:
    return page.get_by_role("region", name="今日兑换").get_by_role("row").filter(
        has_text=receipt_no)


def api_csv(ledger: Ledger, day: str) -> bytes:
    """The reconciliation as the API gives it to a supervisor's token."""
    with ledger.sessions.begin() as session:
        token, _ = access.create_token(session, "wang.supervisor", datetime.now(UTC))
    response = create_app(ledger=ledger).test_client().get(
        f"/api/v1/branches/{BRANCH}/reconciliation?date={day}",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/csv"})
    assert response.status_code == 200
    return response.data


def test_a_supervisor_reverses_counts_stock_and_reconciles_the_day(
        page: Page, counter: Counter, console_ledger: Ledger) -> None:
    rice = counter.redeem(RICE[0], 2)
    counter.redeem(COOKWARE[0], 1)
    sign_in(page, "wang.supervisor")
    page.get_by_role("link", name="网点").click()

    expect(page.get_by_role("region", name="今日兑换").get_by_role("row")).to_have_count(3)
    today_row(page, rice["receipt_no"]).get_by_role("button", name="撤销").click()  # no reason

    expect(today_row(page, rice["receipt_no"])).to_contain_text("撤销须填写原因。")
    assert counter.reversals() == 0
    today_row(page, rice["receipt_no"]).get_by_label("原因").fill("居民退回大米")
    today_row(page, rice["receipt_no"]).get_by_role("button", name="撤销").click()

    expect(page.get_by_role("status")).to_contain_text(f"凭条 {rice['receipt_no']} 已撤销")
    expect(today_row(page, rice["receipt_no"])).to_contain_text("居民退回大米")
    assert counter.reversals() == 1 and counter.stock(RICE[0]) == RICE_STOCK

    page.get_by_label(RICE[1]).fill("25")
    page.get_by_role("region", name="库存", exact=True).get_by_label("原因").fill("总行配送到货")
    page.get_by_role("button", name="记录盘点").click()

    expect(page.get_by_role("status")).to_contain_text("盘点已记录")
    changes = page.get_by_role("region", name="库存", exact=True).locator("table").last
    expect(changes.locator("tbody tr").first).to_contain_text("总行配送到货")
    expect(changes.locator("tbody tr").first).to_contain_text("+15")
    assert counter.stock(RICE[0]) == 25

    page.get_by_role("button", name="查看").click()

    expect(page).to_have_url(re.compile(r"/console/branch/reconciliation\?date=\d{4}-\d{2}-\d{2}"))
    day = page.url.rsplit("=", 1)[1]
    totals = page.locator(".day-totals")
    expect(totals).to_contain_text("兑换积分" + "200")  # 2 × 40 + 120
    expect(totals).to_contain_text("退回积分" + "80")
    expect(totals).to_contain_text("净兑换积分" + "120")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="下载 CSV").click()
    path = downloaded.value.path()
    assert downloaded.value.suggested_filename == f"reconciliation-{BRANCH}-{day}.csv"
    assert path.read_bytes() == api_csv(console_ledger, day)

    page.get_by_role("link", name="打印视图").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"对账单（{day}）")
    expect(page.get_by_role("button", name="打印")).to_have_attribute("data-print", "")
    page.emulate_media(media="print")
    expect(page.locator(".day-totals")).to_contain_text("200")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
