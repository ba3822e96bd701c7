"""The status pages in Chromium (SPEC §15): the auditor's and the admin's show what
`pointsledger status` says, the problems in the reader's language."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from ledger.bootstrap import Ledger
from tests.console.ledger_seed import NEIGHBOUR, NEIGHBOUR_NAME, seed
from tests.console.test_sign_in import sign_in
from tests.silent_broker import silent_broker

# lijiayuan's seqs 4-5 never arrived (tests/console/ledger_seed.py).
GAP_PROBLEM = "平台 lijiayuan 缺少序号 4-5 的事件。"


def test_the_auditors_status_page_names_a_gap_in_chinese(page: Page,
                                                         console_ledger: Ledger) -> None:
    seed(console_ledger)
    sign_in(page, "sun.auditor")

    page.get_by_role("navigation", name="台账页面").get_by_role("link", name="运行状态").click()

    expect(page).to_have_url(re.compile(r"/console/ledger/status$"))
    expect(page.get_by_role("heading", name="运行状态", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(GAP_PROBLEM)
    platforms = page.locator("#status-platforms")
    # Each platform by the name it was registered under, its code beside it.
    expect(platforms.get_by_role("rowheader")).to_have_text(
        ["沥家园 lijiayuan", f"{NEIGHBOUR_NAME} {NEIGHBOUR}"])
    expect(platforms.get_by_role("row", name=re.compile("^沥家园"))).to_contain_text("4–5")
    expect(page.locator("#status-head-seq")).to_have_text("6")
    expect(page.get_by_text("嵌入模式（SQLite）：无法得知由谁消费。")).to_be_visible()


def test_the_admin_sees_the_same_status_and_all_is_well_without_problems(
        page: Page, console_ledger: Ledger) -> None:
    sign_in(page, "zhou.admin")

    page.get_by_role("link", name="运行状态").first.click()

    expect(page).to_have_url(re.compile(r"/console/admin/status$"))
    expect(page.locator("#status-problems")).to_have_text("无：一切正常。")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_admin_sees_a_gap_in_english_when_asked(page: Page, console_ledger: Ledger) -> None:
    seed(console_ledger)
    sign_in(page, "zhou.admin")

    page.goto("/console/admin/status?lang=en")

    expect(page.get_by_role("alert")).to_contain_text(
        "Platform lijiayuan has not sent seqs 4-5.")
    expect(page.locator("#status-platforms").get_by_role("rowheader").first).to_have_text(
        "沥家园 lijiayuan")  # a name as registered, whatever the reader's language


def test_a_broker_that_never_answers_is_named_and_the_page_still_comes(
        page: Page, console_ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page asks the broker on every load; one that accepts the connection and then hangs
    is a problem said on the page, within the page's own timeout (10 s), not a page that
    never comes."""
    sign_in(page, "zhou.admin")
    with silent_broker() as broker:
        monkeypatch.setattr(console_ledger, "settings",
                            replace(console_ledger.settings, amqp_url=broker.url))

        page.goto("/console/admin/status")

        expect(page.get_by_role("alert")).to_contain_text("无法连接消息代理：")
        expect(page.get_by_text("无法查询消息代理。")).to_be_visible()
        expect(page.locator("#status-head-seq")).to_have_text("0")  # the database still read
        assert broker.accepted == 1
