"""Signing in and out of the console in Chromium (SPEC §13): `/` leads to the sign-in page, each
role lands on its home, failures lock a username out, a forged CSRF token changes nothing, and
another role's page is 403."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledger.bootstrap import Ledger, build
from tests.conftest import make_settings
from tests.console.support import PASSWORD, Requests, add_people, live_server

HOMES = {
    "li.teller": "/console/counter",
    "wang.supervisor": "/console/counter",
    "zhao.risk": "/console/rules",
    "sun.auditor": "/console/ledger",
    "zhou.admin": "/console/admin",
    "wu.operator": "/console/platform",
    "zheng.loans": "/console/no-pages",
}


def sign_in(page: Page, username: str, password: str = PASSWORD, lang: str = "") -> None:
    page.goto("/console/login" + (f"?lang={lang}" if lang else ""))
    page.get_by_label("用户名" if lang != "en" else "Username").fill(username)
    page.get_by_label("密码" if lang != "en" else "Password").fill(password)
    page.get_by_role("button", name="登录" if lang != "en" else "Sign in").click()


def test_the_root_leads_to_the_sign_in_page_in_chinese(page: Page) -> None:
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/console/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_label("密码")).to_be_visible()


@pytest.mark.parametrize(("username", "home"), HOMES.items())
def test_each_role_lands_on_its_home(page: Page, username: str, home: str) -> None:
    sign_in(page, username)

    expect(page).to_have_url(re.compile(re.escape(home) + "$"))
    expect(page.locator(".who")).to_contain_text(username)


def test_english_labels_and_the_language_is_remembered(page: Page) -> None:
    sign_in(page, "li.teller", lang="en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Counter")).to_be_visible()
    page.goto("/console/counter")
    expect(page.get_by_role("heading", name="Counter")).to_be_visible()  # remembered
    page.get_by_role("link", name="简体中文").click()
    expect(page.get_by_role("heading", name="柜台")).to_be_visible()
    page.goto("/console/counter")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_wrong_password_is_refused_without_saying_which_part(page: Page) -> None:
    sign_in(page, "li.teller", "not the password at all")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    sign_in(page, "nobody.here", "not the password at all")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")


def test_five_failures_lock_the_username_whatever_the_password(page: Page) -> None:
    for _ in range(4):
        sign_in(page, "li.teller", "wrong password, again")
        expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    sign_in(page, "li.teller", "wrong password, again")
    expect(page.get_by_role("alert")).to_contain_text("暂时无法登录")

    sign_in(page, "li.teller", PASSWORD)  # the right one, now refused

    expect(page.get_by_role("alert")).to_contain_text("暂时无法登录")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    sign_in(page, "wang.supervisor")  # another username is not locked
    expect(page).to_have_url(re.compile(r"/console/counter$"))


def test_a_locked_out_unknown_username_reads_the_same(page: Page) -> None:
    for _ in range(5):
        sign_in(page, "nobody.here", "wrong password, again")
    expect(page.get_by_role("alert")).to_contain_text("暂时无法登录")


def test_another_roles_page_is_403(page: Page) -> None:
    sign_in(page, "li.teller")

    response = page.goto("/console/rules")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="您的角色无权访问此页面")).to_be_visible()


def test_a_forged_csrf_token_is_refused_and_changes_nothing(page: Page) -> None:
    sign_in(page, "li.teller")
    page.locator("form.sign-out input[name=csrf_token]").evaluate(
        "input => input.value = 'forged.' + input.value")

    page.get_by_role("button", name="退出登录").click()

    expect(page.get_by_role("heading", name="表单已失效")).to_be_visible()
    page.goto("/console/counter")
    expect(page).to_have_url(re.compile(r"/console/counter$"))  # still signed in


def test_sign_out_ends_the_session_on_the_server(page: Page) -> None:
    sign_in(page, "li.teller")
    cookie = next(c for c in page.context.cookies() if c["name"] == "pointsledger_console")

    page.get_by_role("button", name="退出登录").click()

    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.context.add_cookies([cookie])  # the old cookie, put back: no longer worth anything
    page.goto("/console/counter")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))


def test_an_idle_session_ends(browser_page_with_short_idle: tuple[Page, Requests]) -> None:
    page, _ = browser_page_with_short_idle
    sign_in(page, "li.teller")
    expect(page).to_have_url(re.compile(r"/console/counter$"))

    page.wait_for_timeout(2_500)
    page.goto("/console/counter")

    expect(page).to_have_url(re.compile(r"/console/login\?next=(/|%2F)console(/|%2F)counter$"))


@pytest.fixture
def browser_page_with_short_idle(browser, sqlite_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server whose sessions end after 2 s without a request."""
    settings = make_settings(sqlite_url, tmp_path=tmp_path)
    ledger: Ledger = build(type(settings)(**{**settings.__dict__, "console_idle_s": 2}))
    add_people(ledger)
    try:
        with live_server(ledger) as running:
            context = browser.new_context(base_url=running.url, locale="zh-CN")
            requests = Requests(running.url)
            opened = context.new_page()
            opened.on("request", lambda request: requests.record(request.url))
            yield opened, requests
            context.close()
            assert requests.elsewhere() == []
    finally:
        ledger.close()
