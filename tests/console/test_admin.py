"""The admin's pages in Chromium (SPEC §12, §13 "Admin"), in 简体中文 as the bank's PCs show
them: a branch and a user who then signs in and is disabled, a token made and revoked, a
platform with a key declared compromised, a gift added and taken off the counter; a weak
password and the last admin's own disabling refused, each with its reason shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ledger.contract.webhook import encode_public_key, public_key_bytes
from tests.console.support import LiveServer, Requests
from tests.console.test_sign_in import sign_in

NEW_PASSWORD = "瓜沥支行 chen 2026 spring"  # 12+ characters, not common, not the username


@pytest.fixture
def admin(page: Page) -> Page:
    sign_in(page, "zhou.admin")
    expect(page).to_have_url(re.compile(r"/console/admin$"))
    return page


@pytest.fixture
def other_context(browser: Browser, server: LiveServer,
                  requests_seen: Requests) -> Iterator[BrowserContext]:
    """Another person's browser on the same console (that must not ask another host either)."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    context.on("request", lambda request: requests_seen.record(request.url))
    yield context
    context.close()


def _place(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="系统管理").get_by_role("link", name=name).click()


def test_a_new_user_signs_in_and_disabling_them_ends_their_session(
        admin: Page, other_context: BrowserContext) -> None:
    _place(admin, "网点")
    admin.get_by_label("代码").fill("GL02")
    admin.get_by_label("名称").fill("瓜沥第二支行")
    admin.get_by_role("button", name="新增网点").click()
    expect(admin.get_by_role("status")).to_have_text("网点 GL02（瓜沥第二支行）已登记。")
    expect(admin.get_by_role("row", name=re.compile("GL02"))).to_contain_text("瓜沥第二支行")

    _place(admin, "用户")
    admin.get_by_role("link", name="新增用户").click()
    admin.get_by_label("用户名").fill("chen.teller")
    admin.get_by_label("角色").select_option(label="柜员")
    admin.get_by_label("网点").select_option(label="GL02 · 瓜沥第二支行")
    admin.get_by_label("控制台密码").fill(NEW_PASSWORD)
    admin.get_by_label("再次输入密码").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="新增用户").click()
    expect(admin).to_have_url(re.compile(r"/console/admin/users/chen\.teller$"))
    expect(admin.get_by_role("status")).to_contain_text("用户 chen.teller 已添加并设置了控制台密码")

    teller = other_context.new_page()
    sign_in(teller, "chen.teller", NEW_PASSWORD)
    expect(teller).to_have_url(re.compile(r"/console/counter$"))
    expect(teller.locator(".who")).to_contain_text("chen.teller · 柜员 · GL02")

    admin.get_by_role("button", name="停用").click()
    expect(admin.get_by_role("status")).to_contain_text("chen.teller 已停用")
    expect(admin.get_by_role("row", name="状态")).to_contain_text("已停用")

    teller.reload()  # their next page
    expect(teller).to_have_url(re.compile(r"/console/login"))
    sign_in(teller, "chen.teller", NEW_PASSWORD)
    expect(teller.get_by_role("alert")).to_have_text("用户名或密码错误。")


def test_a_token_is_shown_once_and_refused_once_revoked(admin: Page) -> None:
    _place(admin, "API 令牌")
    admin.get_by_label("用户", exact=True).fill("zheng.loans")
    admin.get_by_label("有效天数").fill("30")
    admin.get_by_role("button", name="创建令牌").click()

    secret = admin.locator("#token-secret").inner_text()
    assert secret.startswith("plt_")
    heading = admin.get_by_role("heading", level=1).inner_text()
    token_id = re.search(r"令牌 (\d+)", heading)
    assert token_id, heading
    api = admin.context.request
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/ledger/head", headers=bearer).status == 200

    admin.get_by_role("link", name="返回 zheng.loans 的令牌").click()
    assert secret not in admin.content()  # never shown again
    admin.get_by_role("button", name=f"吊销令牌 {token_id.group(1)}").click()

    expect(admin.get_by_role("status")).to_contain_text(
        f"zheng.loans 的令牌 {token_id.group(1)} 已吊销")
    expect(admin.get_by_role("row", name=re.compile(rf"^{token_id.group(1)} "))).to_contain_text(
        "已于")
    assert api.get("/api/v1/ledger/head", headers=bearer).status == 401


def test_a_platform_and_its_key_which_is_then_declared_compromised(admin: Page) -> None:
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    _place(admin, "平台与密钥")
    admin.get_by_label("代码").fill("nanyang_young")
    admin.get_by_label("名称").fill("南阳young")
    admin.get_by_label("所属镇街").fill("南阳街道")
    admin.get_by_role("button", name="登记平台").click()
    expect(admin).to_have_url(re.compile(r"/console/admin/platforms/nanyang_young$"))
    expect(admin.get_by_text("该平台还没有密钥")).to_be_visible()

    admin.get_by_label("公钥").fill(public_key)
    admin.get_by_role("button", name="添加公钥").click()
    expect(admin.get_by_role("status")).to_contain_text("已登记：从现在起接受用它签名的事件")
    row = admin.get_by_role("row").filter(has_text=public_key)
    expect(row).to_contain_text("使用中")

    row.get_by_role("button", name="声明已泄露").click()

    expect(admin.get_by_role("status")).to_contain_text("已声明泄露")
    expect(row).to_contain_text("已泄露")
    expect(row.locator("time")).to_have_count(3)  # added, retired and compromised, all now
    expect(row.get_by_role("button")).to_have_count(0)  # nothing more to revoke


def test_a_gift_is_added_and_taken_off_the_counter(admin: Page) -> None:
    _place(admin, "礼品")
    admin.get_by_label("商品编码").fill("RICE-5KG")
    admin.get_by_label("名称").fill("五常大米 5 公斤")
    admin.get_by_label("所需积分").fill("40")
    admin.get_by_role("button", name="新增礼品").click()
    expect(admin.get_by_role("status")).to_have_text(
        "礼品 RICE-5KG（五常大米 5 公斤）已添加：柜员现在可以办理兑换。")
    expect(admin.get_by_role("row", name=re.compile("RICE-5KG"))).to_contain_text("可兑换")

    admin.get_by_role("button", name="下架 RICE-5KG").click()

    expect(admin.get_by_role("status")).to_contain_text("礼品 RICE-5KG 已下架")
    expect(admin.get_by_role("row", name=re.compile("RICE-5KG"))).to_contain_text("已下架")


def test_a_weak_password_and_the_last_admins_own_disabling_are_refused_saying_why(
        admin: Page) -> None:
    # One browser test for both refusals: each test's server and people take seconds to make.
    admin.goto("/console/admin/users/li.teller")
    admin.get_by_label("新的控制台密码").fill("li.teller-2026-spring")
    admin.get_by_label("再次输入新密码").fill("li.teller-2026-spring")
    admin.get_by_role("button", name="设置密码").click()

    expect(admin.get_by_role("alert")).to_contain_text("未做任何更改")
    expect(admin.get_by_label("新的控制台密码")).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#password-errors")).to_have_text("密码中不能包含用户名。")

    admin.goto("/console/admin/users/zhou.admin")
    admin.get_by_role("button", name="停用").click()

    expect(admin.get_by_role("alert")).to_have_text(
        "zhou.admin 是最后一位启用中的管理员，不能停用：请先让另一位用户成为管理员。"
        " 未做任何更改。")
    expect(admin.get_by_role("row", name="状态")).to_contain_text("启用中")
    admin.goto("/console/admin")
    expect(admin).to_have_url(re.compile(r"/console/admin$"))  # still signed in
