"""The platform operator's pages in Chromium (SPEC §13): their platform's events, recorded and
rejected with the reasons, and its gaps; nothing of any other platform."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ledger.bootstrap import Ledger
from tests.console.ledger_seed import ID_NUMBER, MASKED, Seeded, seed
from tests.console.test_sign_in import sign_in


@pytest.fixture
def seeded(console_ledger: Ledger) -> Seeded:
    return seed(console_ledger)


def test_the_operator_sees_only_their_platforms_events_rejections_and_gaps(
        page: Page, seeded: Seeded) -> None:
    sign_in(page, "wu.operator")

    expect(page).to_have_url(re.compile(r"/console/platform$"))
    expect(page.get_by_role("heading", name="沥家园 lijiayuan")).to_be_visible()
    expect(page.locator("#last-seq")).to_have_text("6")
    expect(page.locator("#gaps")).to_have_text("4 至 5")
    expect(page.get_by_text("低于最大序号的事件中有 2 个尚未收到")).to_be_visible()
    main = page.locator("main")
    expect(main).not_to_contain_text("wuhe")

    page.get_by_label("事件编号").fill("lijiayuan-7")
    page.get_by_role("button", name="查询").click()
    outcome = page.locator("#event-outcome")
    expect(outcome).to_contain_text("被拒收：字段不符合接口规范")
    expect(outcome).to_contain_text("must not hold anything shaped like a resident ID number")
    page.get_by_role("link", name="查看第 1 号拒收记录").click()
    expect(page.locator("#body-text")).to_contain_text(MASKED)
    expect(page.locator("#body-text")).not_to_contain_text(ID_NUMBER)

    page.get_by_role("link", name="已记录事件").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(4)  # 1, 2, 3 and 6; never wuhe's
    expect(main).not_to_contain_text("wuhe")
    page.get_by_label("记录类型").select_option(label="扣减")
    page.get_by_role("button", name="查看").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("lijiayuan-3")

    page.get_by_role("link", name="被拒收事件").click()
    expect(rows).to_have_count(2)
    expect(main).not_to_contain_text("wuhe")
    expect(page.get_by_role("link", name="第 2 号拒收记录")).to_be_visible()

    page.goto("/console/platform?event_id=wuhe-1")
    expect(page.locator("#event-outcome")).to_have_text(
        "台账没有收到过这个编号的事件（既未记录，也未拒收）。")
    response = page.goto("/console/platform/rejections/3")  # wuhe's
    assert response is not None and response.status == 404
