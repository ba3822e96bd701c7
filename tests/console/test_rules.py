"""The rules pages in Chromium, as risk officers and a teller use them (SPEC §8, §13).

Two risk officers change the active rule set under four eyes: one drafts the change (a
mistake is shown at its place in the document, then fixed), simulates it (the work runs in
the background, its progress shown, then the charts), and submits it, and is never offered
Approve; the other approves it and it becomes the active version. A teller prints a
resident's explanation and reads the tier reached and how far the next one is.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ledger.bootstrap import Ledger
from ledger.service.rules import simulations
from tests.console.rules_support import ID_NUMBER_A, RESIDENT_A, RESIDENT_B, County, county
from tests.console.test_sign_in import sign_in

WAIT_S = 10.0


@pytest.fixture
def seeded(console_ledger: Ledger) -> County:
    return county(console_ledger)


@pytest.fixture
def held_simulations(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Simulations wait until the test lets them go: the page's progress can be seen first
    (the county of the test is measured in milliseconds)."""
    release = threading.Event()
    measure = simulations.simulate

    def held(*arguments: Any, **options: Any) -> dict[str, Any]:
        assert release.wait(WAIT_S), "the test never let the simulation go"
        return measure(*arguments, **options)

    monkeypatch.setattr(simulations, "simulate", held)
    yield release
    release.set()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))


def _figure(page: Page, table: str, row: str) -> list[str]:
    cells = page.locator(f"#{table} tr", has=page.get_by_role("rowheader", name=row,
                                                              exact=True)).locator("td")
    return [text.replace(",", "") for text in cells.all_inner_texts()]


def test_two_officers_change_the_rules_under_four_eyes(
        page: Page, seeded: County, held_simulations: threading.Event) -> None:
    sign_in(page, "zhao.risk")
    expect(page.get_by_role("heading", name="规则集")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"版本 1 .*已批准 生效中"))).to_be_visible()

    # A new draft from the active version, with a mistake: the last tier has a condition.
    page.get_by_label("当前生效的版本").check()
    page.get_by_role("button", name="新建草稿").click()
    expect(page.get_by_role("heading", name="编辑草稿")).to_be_visible()
    editor = page.get_by_label("规则集（JSON）")
    document = json.loads(editor.input_value())
    document["tiers"][4]["when"] = {"min_score": 0}
    editor.fill(json.dumps(document, ensure_ascii=False, indent=2))
    page.get_by_label("说明").fill("降低最低一档的门槛")
    page.get_by_role("button", name="保存草稿").click()

    problems = page.locator(".problems li")
    expect(problems).to_have_count(1)
    expect(problems.first).to_have_text('tiers[4].when: 最后一档必须适用于所有人（"when": {}）。')
    expect(page.get_by_role("alert")).to_have_text("有 1 个问题，未保存任何内容。")
    assert json.loads(editor.input_value()) == document  # the text stays as typed

    # Fixed: the last tier for everyone again; tier 4 from a score of 50 instead of 100.
    document["tiers"][4]["when"] = {}
    document["tiers"][3]["when"]["min_score"] = 50
    editor.fill(json.dumps(document, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="保存草稿").click()

    expect(page.get_by_role("status")).to_have_text("版本 2 已保存为草稿。")
    expect(page.locator("#version-status")).to_have_text("草稿")
    changes = page.locator("table.diff tbody tr")
    expect(changes).to_have_count(1)
    expect(changes.first).to_have_text(re.compile(r"tiers\[3\]\.when\.min_score\s*100\s*50"))

    # Simulate: the progress first, then the simulation's page.
    page.get_by_role("button", name="模拟测算").click()
    expect(page).to_have_url(re.compile(r"/console/jobs/"))
    expect(page.get_by_label("进度")).to_be_visible()
    held_simulations.set()
    expect(page).to_have_url(re.compile(r"/console/rules/2/simulations/\d+$"), timeout=15_000)
    simulation_id = int(page.url.rsplit("/", 1)[1])
    with seeded.ledger.sessions() as session:
        recorded = simulations.simulation_of(session, 2, simulation_id)
    # Resident B (score 60) gains the 20 000 CNY tier; the three others keep their terms.
    assert (recorded["gaining"], recorded["losing"], recorded["unchanged"]) == (1, 0, 3)

    histogram = page.locator("svg#chart-histogram")
    expect(page.get_by_role("img", name=re.compile("额度提升的变化"))).to_be_visible()
    expect(histogram.locator("g.bars rect")).to_have_count(len(recorded["histogram"]))
    towns = len(recorded["by_platform"])
    expect(page.locator("svg#chart-movers g.bars rect")).to_have_count(2 * towns)
    expect(page.locator("svg#chart-exposure g.bars rect")).to_have_count(2 * towns)
    expect(page.locator("svg#chart-histogram g.bars rect title")).to_have_text(
        ["不变：3 位居民", "+20,000 至 +21,000：1 位居民"])

    for name in ("residents", "gaining", "losing", "unchanged", "exposure_before_cny",
                 "exposure_after_cny"):
        shown = page.locator(f'#figures-summary [data-figure="{name}"]').inner_text()
        assert int(shown.replace(",", "")) == recorded[name], name
    for code, figures in recorded["by_platform"].items():
        row = page.locator(f'#figures-by-town tr[data-platform="{code}"] td')
        assert [int(text.replace(",", "")) for text in row.all_inner_texts()] == [
            figures["residents"], figures["gaining"], figures["losing"],
            figures["exposure_before_cny"], figures["exposure_after_cny"]]
    expect(page.locator('#figures-by-town tr[data-platform="lijiayuan"] th')).to_have_text(
        "沥家园（瓜沥镇）")
    assert _figure(page, "figures-histogram", "不变") == [str(recorded["histogram"][0]
                                                              ["residents"])]

    # Submit; its author is not offered Approve.
    page.get_by_role("link", name="返回版本 2").click()
    submit = page.get_by_role("form", name="提交审批")
    submit.get_by_label("说明").fill("测算后影响可控，提交审批")
    submit.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_have_text("版本 2 已提交审批。")
    expect(page.locator("#version-status")).to_have_text("已提交")
    expect(page.get_by_role("button", name="批准")).to_have_count(0)
    expect(page.get_by_text("此版本由您起草，须由另一位风险官批准。")).to_be_visible()
    _sign_out(page)

    # The other officer approves it with a comment.
    sign_in(page, "qian.risk")
    page.get_by_role("link", name="版本 2", exact=True).click()
    approve = page.get_by_role("form", name="批准")
    approve.get_by_label("说明").fill("已核对测算结果")
    approve.get_by_role("button", name="批准").click()

    expect(page.get_by_role("status")).to_have_text("版本 2 已批准。")
    expect(page.locator("#version-status")).to_have_text("已批准")
    expect(page.locator(".badges")).to_contain_text("生效中")
    history = page.get_by_role("row", name=re.compile("已批准 .*qian.risk"))
    expect(history).to_contain_text("已核对测算结果")
    page.get_by_role("link", name="版本", exact=True).click()
    expect(page.get_by_role("row", name=re.compile(r"版本 1 .*已被替代"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"版本 2 .*已批准 生效中"))).to_be_visible()


def test_a_teller_prints_a_residents_explanation(page: Page, seeded: County) -> None:
    sign_in(page, "li.teller")
    page.goto(f"/console/rules/explanation?resident={RESIDENT_A}")

    expect(page.get_by_role("heading", name="您的积分与授信条件")).to_be_visible()
    expect(page.locator("#tier-reached")).to_have_text(
        "您达到了第 3 档（共 5 档），这一档给您贷款额度提高 50,000 元、利率下调 0.15 个百分点。")
    expect(page.locator('[data-figure="score"]')).to_have_text("550")
    next_tier = page.locator("#next-tier")
    expect(next_tier).to_contain_text(
        "下一档（第 2 档）给贷款额度提高 100,000 元、利率下调 0.30 个百分点。需要满足：")
    expect(next_tier.get_by_role("listitem")).to_have_text([
        "得分至少 600 分：您现在 550 分，还差 50 分。",
        "活跃月数至少 6 个月：您现在 5 个月，还差 1 个月。",
        "扣分记录不超过 0 次：您现在 0 次，已达到。"])
    counted = page.locator("#what-counted tbody tr")
    expect(counted).to_have_count(2)
    expect(counted.first).to_contain_text("沥家园（瓜沥镇）")
    expect(page.get_by_role("button", name="打印")).to_be_visible()

    # Another resident, by the ID number typed at the counter (a POST, never in the URL).
    page.get_by_label("身份证号").fill(ID_NUMBER_A)
    page.get_by_role("button", name="生成说明").click()
    expect(page.locator('[data-figure="score"]')).to_have_text("550")
    assert ID_NUMBER_A not in page.url and ID_NUMBER_A not in page.content()
    assert RESIDENT_B not in page.content()
