"""The README's pictures of the console, made again: `python -m ledger.demo.screenshots`.

Runs `pointsledger demo --no-serve` in a scratch directory, serves that demo's console on a local
port, and photographs its main pages as their users see them (in 简体中文, in Debian's Chromium
driven by Playwright) into `docs/screenshots/`: the counter, a receipt, the branch, a
simulation, the resident's explanation and the ledger after `Verify`. Needs the test extra
(Playwright), /usr/bin/chromium and a CJK font (Debian: fonts-wqy-microhei); nothing is fetched
from another host, and no browser is downloaded.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import make_server

from ledger.bootstrap import Ledger, build
from ledger.infra.db.models import Simulation
from ledger.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                      "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"]
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1280, 860
OUT_DEFAULT = Path("docs/screenshots")
DEMO_COMMAND = ("-c", "from ledger.cli.main import main; main()", "demo", "--no-serve")
PASSWORD_LINE = re.compile(r"^  (demo-[a-z0-9-]+)\s+\S+\s+([a-z0-9]{4}(?:-[a-z0-9]{4}){3})$",
                           re.MULTILINE)
EXAMPLE_LINE = re.compile(r"look up the demo resident ([0-9]{17}[0-9X])")
TIMEOUT_MS = 20_000


class ScreenshotsFailed(Exception):
    """The demo or a page did not come out as expected."""


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT,
                        help=f"folder for the PNG files (default {OUT_DEFAULT})")
    options = parser.parse_args(arguments)
    options.out.mkdir(parents=True, exist_ok=True)
    try:
        taken = take(options.out.resolve())
    except ScreenshotsFailed as error:
        print(f"screenshots: {error}", file=sys.stderr)
        return 1
    for path in taken:
        print(path)
    return 0


def take(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="pointsledger-screenshots-") as scratch:
        work = Path(scratch)
        demo = _run_demo(work)
        passwords = dict(PASSWORD_LINE.findall(demo))
        example = EXAMPLE_LINE.search(demo)
        if not passwords or example is None:
            raise ScreenshotsFailed(f"the demo printed no passwords or example:\n{demo}")
        ledger = build(_settings(work))
        try:
            with _served(ledger) as base_url:
                return _photograph(base_url, passwords, example.group(1), ledger, out)
        finally:
            ledger.close()


def _run_demo(work: Path) -> str:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("POINTSLEDGER_")}
    completed = subprocess.run([sys.executable, *DEMO_COMMAND], cwd=work, env=environment,  # noqa: S603 (our own interpreter)
                               capture_output=True, text=True, timeout=600, check=False)
    if completed.returncode != 0:
        raise ScreenshotsFailed(f"the demo failed: {completed.stderr.strip()}")
    return completed.stdout


def _settings(work: Path) -> Settings:
    var = work / "var"
    return Settings.from_environment({
        "POINTSLEDGER_DATABASE_URL": f"sqlite:///{var / 'pointsledger.sqlite3'}",
        "POINTSLEDGER_LEDGER_KEY_FILE": str(var / "ledger.key"),
        "POINTSLEDGER_RESIDENT_PEPPER": (var / "resident.pepper").read_text().strip(),
        "POINTSLEDGER_LOG_ORIGIN": (var / "log.origin").read_text().strip(),
    })


@contextmanager
def _served(ledger: Ledger) -> Iterator[str]:
    from ledger.app import create_app

    server = make_server("127.0.0.1", 0, create_app(ledger=ledger), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _photograph(base_url: str, passwords: dict[str, str], id_number: str, ledger: Ledger,
                out: Path) -> list[Path]:
    try:
        from playwright.sync_api import Page, sync_playwright
    except ImportError:
        raise ScreenshotsFailed("Playwright is missing: pip install -e '.[test]'") from None
    if not Path(CHROMIUM).exists():
        raise ScreenshotsFailed(f"{CHROMIUM} is missing: apt-get install -y chromium")
    taken: list[Path] = []

    def shot(page: Page, name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGUMENTS)
        try:
            def signed_in(username: str) -> Any:
                context = browser.new_context(
                    base_url=base_url, locale="zh-CN",
                    viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT})
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                page.goto("/console/login")
                page.get_by_label("用户名").fill(username)
                page.get_by_label("密码").fill(passwords[username])
                page.get_by_role("button", name="登录").click()
                page.wait_for_load_state()
                return page

            teller = signed_in("demo-teller")
            teller.goto("/console/counter")
            teller.get_by_label("身份证号").fill(id_number)
            teller.get_by_role("button", name="查询").click()
            teller.get_by_role("heading", name="礼品").wait_for()
            shot(teller, "counter")
            explanation = teller.get_by_role("link", name=re.compile("授信"))
            if explanation.count():
                explanation.first.click()
                teller.wait_for_load_state()
                shot(teller, "explanation")
                teller.go_back()
            row = teller.get_by_role("row").filter(
                has=teller.get_by_role("rowheader", name=re.compile("毛巾|TOWELS")))
            row.get_by_label("数量").fill("1")
            row.get_by_role("button", name="兑换").click()
            teller.wait_for_url(re.compile(r"/receipts/"))
            shot(teller, "receipt")

            supervisor = signed_in("demo-supervisor")
            supervisor.goto("/console/branch")
            shot(supervisor, "branch")

            with ledger.sessions() as session:
                latest = session.scalars(select(Simulation).order_by(Simulation.id.desc())
                                         .limit(1)).first()
            if latest is None:
                raise ScreenshotsFailed("the demo recorded no simulation")
            officer = signed_in("demo-risk")
            officer.goto(f"/console/rules/{latest.version}/simulations/{latest.id}")
            officer.locator("svg").first.wait_for()
            shot(officer, "simulation")

            auditor = signed_in("demo-auditor")
            auditor.goto("/console/ledger")
            shot(auditor, "ledger-checkpoint")
            auditor.get_by_role("button", name=re.compile("校验")).click()
            auditor.wait_for_url(re.compile(r"/console/ledger/verifications/"))
            shot(auditor, "ledger")
        finally:
            browser.close()
    return taken


if __name__ == "__main__":
    sys.exit(main())
