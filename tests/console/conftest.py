"""Fixtures for the console: a ledger with people, the app served on a local port, and a
Chromium page whose every request is checked to stay on that server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from ledger.bootstrap import Ledger, build
from ledger.service import passwords
from tests.conftest import make_settings
from tests.console.support import (
    CHROMIUM,
    CHROMIUM_ARGUMENTS,
    LiveServer,
    Requests,
    add_people,
    live_server,
)

# argon2id as in production, with the cheapest parameters: the console's tests sign people in
# hundreds of times, and at 64 MiB and three passes each hash costs 0.15 s of a shared core.
# The production parameters are tested in tests/ledger/test_people_and_passwords.py.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", lambda: CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: CHEAP_DUMMY_HASH)


CHEAP_DUMMY_HASH = CHEAP_HASHER.hash("no user has this password")


@pytest.fixture
def console_ledger(sqlite_url: str, tmp_path: Path) -> Iterator[Ledger]:
    """The embedded ledger (SQLite), with a branch, a platform and one person per role."""
    built = build(make_settings(sqlite_url, tmp_path=tmp_path))
    add_people(built)
    yield built
    built.close()


@pytest.fixture
def server(console_ledger: Ledger) -> Iterator[LiveServer]:
    with live_server(console_ledger) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium (see README)")
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=CHROMIUM_ARGUMENTS)
    yield launched
    launched.close()


@pytest.fixture
def requests_seen(server: LiveServer) -> Requests:
    return Requests(server.url)


@pytest.fixture
def page(browser: Browser, server: LiveServer, requests_seen: Requests) -> Iterator[Page]:
    """A fresh browser profile on the console (Chinese, as the branches' PCs are), that must
    not ask any other host for anything."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    opened = context.new_page()
    opened.on("request", lambda request: requests_seen.record(request.url))
    opened.set_default_timeout(10_000)
    yield opened
    context.close()
    assert requests_seen.elsewhere() == [], "the console asked another host"
