"""The auditor's pages in Chromium (SPEC §13): the ledger's head, `Verify` with its progress
and its result, entries filtered by platform, a rejection's reason and masked body, platforms
and their gaps, the audit trail; and a row changed behind the ledger's back named by `Verify`."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ledger.bootstrap import Ledger
from ledger.console.ledger_pages import verification
from ledger.service.chain_audit import ProgressCallback, audit_chain_in_steps
from tests.console.ledger_seed import ID_NUMBER, MASKED, NEIGHBOUR_NAME, Seeded, seed, tamper
from tests.console.test_sign_in import sign_in

WAIT_S = 10.0


@pytest.fixture
def seeded(console_ledger: Ledger) -> Seeded:
    return seed(console_ledger)


@pytest.fixture
def held_verification(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Verification stops after telling its first progress, until the test lets it go on:
    long enough for the progress page to be seen, however small the ledger."""
    go_on = threading.Event()

    def held(sessions: Any, progress: ProgressCallback | None = None) -> Any:
        def told(done: int, total: int) -> None:
            assert progress is not None
            progress(done, total)
            assert go_on.wait(WAIT_S), "the test never let the verification go on"

        return audit_chain_in_steps(sessions, told)

    monkeypatch.setattr(verification, "audit_chain_in_steps", held)
    yield go_on
    go_on.set()


def test_the_auditors_main_path(page: Page, seeded: Seeded,
                                held_verification: threading.Event) -> None:
    sign_in(page, "sun.auditor")

    expect(page).to_have_url(re.compile(r"/console/ledger$"))
    expect(page.get_by_role("heading", name="台账最新状态")).to_be_visible()
    expect(page.locator("#head-seq")).to_have_text("6")  # 4 of lijiayuan, 2 of wuhe
    expect(page.locator("#head-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))

    page.get_by_role("button", name="校验").click()
    # The page follows the work by itself: the ledger's 6 entries checked, the trail's not yet.
    expect(page.get_by_label("进度")).to_have_attribute("value", re.compile(r"^[1-9][0-9]?$"))
    held_verification.set()
    expect(page).to_have_url(re.compile(r"/console/ledger/verifications/\w+$"))
    expect(page.locator("#chain-result")).to_have_text("完好：全部 6 条记录与哈希值相符。")
    expect(page.locator("#trail-result")).to_contain_text("完好")

    page.get_by_role("link", name="台账记录").click()
    page.get_by_label("平台").select_option(label=f"{NEIGHBOUR_NAME} (wuhe)")
    page.get_by_role("button", name="查看").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("wuhe")

    page.get_by_role("link", name="拒收记录").click()
    page.get_by_label("原因").select_option(label="字段不符合接口规范")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("main table tbody tr")).to_have_count(3)
    page.get_by_role("row").filter(has_text="memo").get_by_role("link").click()
    expect(page.get_by_role("heading", name="字段不符合接口规范")).to_be_visible()
    expect(page.get_by_text("must not hold anything shaped like a resident ID number")
           ).to_be_visible()
    body = page.locator("#body-text")
    expect(body).to_contain_text(MASKED)
    expect(body).not_to_contain_text(ID_NUMBER)
    expect(page.locator("#body-sha256")).to_have_text(seeded.id_number_body_sha256)

    page.get_by_role("link", name="平台与缺号").click()
    lijiayuan = page.get_by_role("row").filter(has_text="lijiayuan")
    expect(lijiayuan.get_by_role("cell").nth(1)).to_have_text("6")
    expect(lijiayuan.get_by_role("cell").nth(2)).to_have_text("4 至 5")
    expect(lijiayuan.get_by_role("cell").nth(3)).to_have_text("2")

    page.get_by_role("link", name="审计日志").click()
    page.get_by_label("操作").fill("console")
    page.get_by_role("button", name="查看").click()
    first = page.locator("main table tbody tr").first  # newest first: this sign-in
    expect(first).to_contain_text("console.signed_in")
    expect(first).to_contain_text("sun.auditor")


def test_verify_names_the_first_entry_changed_behind_the_ledgers_back(
        page: Page, console_ledger: Ledger, seeded: Seeded) -> None:
    with console_ledger.engine.begin() as connection:
        tamper(connection, "UPDATE ledger_entries SET points = 2000 WHERE seq = 3")
    sign_in(page, "sun.auditor")

    page.get_by_role("button", name="校验").click()

    result = page.locator("#chain-result")
    expect(result).to_contain_text("在第 3 号记录处断开。")
    expect(result).to_contain_text("第 3 号记录与其哈希值不符：写入后被改动过。")
    expect(result).to_contain_text("它之前的记录（2 条）与哈希值相符。")
    page.get_by_role("link", name="查看第 3 号记录").click()
    expect(page.get_by_role("heading", name="第 3 号记录")).to_be_visible()
    expect(page.locator("main")).to_contain_text('"points": 2000')


def test_the_pages_read_in_english(page: Page, seeded: Seeded) -> None:
    sign_in(page, "sun.auditor", lang="en")

    expect(page.get_by_role("heading", name="The ledger's head")).to_be_visible()
    page.get_by_role("link", name="Platforms and gaps").click()
    expect(page.get_by_role("row").filter(has_text="lijiayuan")).to_contain_text("4 to 5")
