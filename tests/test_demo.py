"""The README's quick start: `pointsledger demo` on a fresh directory, no servers."""

from __future__ import annotations

import dataclasses
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.registry import adapter_module
from ledger.app import create_app
from ledger.bootstrap import build
from ledger.demo.batches import native_batch
from ledger.demo.scenario import PLATFORMS
from ledger.demo.setup import DEMO_USERS
from tests.conftest import make_settings
from tests.support import stop_process

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
DEMO_START_TIMEOUT_S = 120


def _clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("POINTSLEDGER_")}


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([POINTSLEDGER, *arguments], cwd=cwd, env=_clean_environment(),
                          capture_output=True, text=True, timeout=300, check=False)


PLATFORM_ROUTES = {
    "lijiayuan": "POST /webhook",
    "nanyang_young": ".csv.report.json",
    "wuhe_zhonglian": "/api/points?after=CURSOR",
    "pingan_gongfu": "POST /activities",
}


# Where each demo user lands after signing in to the console (SPEC §13).
HOMES = {"admin": "/console/admin", "auditor": "/console/ledger", "teller": "/console/counter",
         "supervisor": "/console/counter", "risk_officer": "/console/rules",
         "credit_system": "/console/no-pages", "platform_operator": "/console/platform"}
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _printed_passwords(output: str) -> dict[str, str]:
    """The console's sign-ins the demo printed: username → password."""
    section = output[output.index("open http://"):]
    return dict(re.findall(r"^  (demo-\S+)\s+\S+\s+(\S+)$", section, re.MULTILINE))


def _adapter_status(platform: str, cwd: Path) -> dict[str, int]:
    completed = _run(["adapter", "status", platform], cwd)
    assert completed.returncode == 0, completed.stderr
    return dict(json.loads(completed.stdout))


def test_demo_feeds_each_platform_through_its_adapter_and_keeps_the_mistakes(
        tmp_path: Path) -> None:
    completed = _run(["demo", "--no-serve", "--events-per-platform", "60",
                      "--bad-per-platform", "3"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    for platform, route in PLATFORM_ROUTES.items():
        # Each platform's line names its native route, the next what became of its records.
        match = re.search(rf"{platform}: .*{re.escape(route)}.*\n\s+(.*)", output)
        assert match, f"no summary for {platform}"
        assert match.group(1).startswith("63 records → 60 signed, 3 quarantined (")
        assert "bad_id_number" in match.group(1)
        assert match.group(1).endswith(
            "→ ledger: 60 recorded, 1 duplicate, 1 rejected (bad_signature)")
        status = _adapter_status(platform, tmp_path)
        assert (status["last_seq"], status["backlog"], status["quarantined"]) == (60, 0, 3)
    assert "events posted: 240 recorded, 4 duplicate, 4 rejected (bad_signature)" in output
    assert "records quarantined by the adapters: 12 (" in output
    assert re.search(r"demo-auditor\s+plt_\S+", output)
    assert (tmp_path / "var" / "pointsledger.sqlite3").exists()
    verified = _run(["verify"], tmp_path)
    assert verified.returncode == 0, verified.stderr
    # 240 events, and the counter's two redemptions and one reversal
    assert "chain intact: 243 entries" in verified.stdout
    # Both logs signed before the demo prints where to check them (SPEC §14).
    assert re.search(r"the verifiable log pointsledger\.local/\S+: checkpoints signed of 243 "
                     r"entries and \d+ audit events", output)


def test_a_small_demo_redeems_only_for_residents_who_can_afford_it(tmp_path: Path) -> None:
    """With 20 events a platform the richest 沥家园 resident has 39 points, one short of the
    rice: the counter's script leaves the redemptions out instead of stopping the demo."""
    completed = _run(["demo", "--no-serve", "--events-per-platform", "20"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "nothing redeemed" in completed.stdout or "1 × RICE-5KG" in completed.stdout


def test_demo_prints_a_console_password_for_each_user_that_signs_in(tmp_path: Path) -> None:
    completed = _run(["demo", "--no-serve", "--events-per-platform", "5", "--port", "8123"],
                     tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "open http://127.0.0.1:8123/ and sign in as" in completed.stdout
    printed = _printed_passwords(completed.stdout)
    assert sorted(printed) == sorted(username for username, *_ in DEMO_USERS)
    assert len(set(printed.values())) == len(printed)  # each their own
    # The app of the demo's database, as `pointsledger serve` there would run it.
    ledger = build(make_settings(f"sqlite:///{tmp_path}/var/pointsledger.sqlite3",
                                 tmp_path=tmp_path / "var"))
    try:
        for username, role, *_ in DEMO_USERS:
            client = create_app(ledger=ledger).test_client()
            form = client.get("/console/login").get_data(as_text=True)
            match = CSRF_FIELD.search(form)
            assert match, form
            signed_in = client.post("/console/login", data={
                "csrf_token": match.group(1), "username": username,
                "password": printed[username]})
            assert signed_in.status_code == 302, (username, signed_in.status_code)
            assert signed_in.headers["Location"] == HOMES[role]
            assert client.get(HOMES[role]).status_code == 200
    finally:
        ledger.close()
    _the_printed_resident_is_found_at_the_counter(completed.stdout, printed["demo-teller"],
                                                  tmp_path)
    again = _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path)
    assert again.returncode == 0, again.stderr
    renewed = _printed_passwords(again.stdout)
    assert all(renewed[username] != printed[username] for username in printed)


def _the_printed_resident_is_found_at_the_counter(output: str, password: str,
                                                   tmp_path: Path) -> None:
    """What the demo prints for a newcomer to type at the counter leads to that resident."""
    example = re.search(r"look up the demo resident ([0-9]{17}[0-9X]) \(([0-9]+) points", output)
    assert example is not None, output
    settings = make_settings(f"sqlite:///{tmp_path}/var/pointsledger.sqlite3",
                             tmp_path=tmp_path / "var")
    pepper = (tmp_path / "var" / "resident.pepper").read_text().strip()
    ledger = build(dataclasses.replace(settings, resident_pepper=pepper))
    try:
        client = create_app(ledger=ledger).test_client()
        match = CSRF_FIELD.search(client.get("/console/login").get_data(as_text=True))
        assert match
        client.post("/console/login", data={"csrf_token": match.group(1),
                                            "username": "demo-teller", "password": password})
        match = CSRF_FIELD.search(client.get("/console/counter").get_data(as_text=True))
        assert match
        found = client.post("/console/counter", data={
            "csrf_token": match.group(1), "id_number": example.group(1)}, follow_redirects=True)
        page = found.get_data(as_text=True)
        assert found.status_code == 200 and "沥家园" in page
        assert f"{int(example.group(2)):,}" in page and example.group(1) not in page
    finally:
        ledger.close()


def test_demo_puts_rules_in_force_under_four_eyes_and_asks_for_terms(tmp_path: Path) -> None:
    completed = _run(["demo", "--no-serve", "--events-per-platform", "40"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    rules = completed.stdout[completed.stdout.index("rules (four eyes"):]
    assert "version 1 (Contribution credit policy (default)): drafted by demo-risk, " \
           "simulated and approved by demo-risk2" in rules
    assert "tiers[3].when.min_score: 100 → 30" in rules
    impact = re.search(r"its simulation against version 1: (\d+) residents, (\d+) gaining", rules)
    assert impact and int(impact.group(1)) > 0
    assert "demo-risk2 approved it: version 2 is active" in rules
    terms = re.search(r"the loan system asks .*: score (\d+).*\(decision ([0-9a-f-]{36})\)",
                      rules)
    assert terms, rules
    listed = _run(["rules", "list"], tmp_path)
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["1", "superseded"], ["2", "approved"]]

    counter = completed.stdout[completed.stdout.index("at the counter"):]
    receipts = re.findall(r"receipt (XS-GUALI-\d{8}-\d{4})", counter)
    assert receipts[1] == receipts[2]  # the retried request answered its first receipt
    assert re.search(r"3 × COOKWARE for .* refused: balance \d+, cost 360", counter)
    assert "demo-supervisor reverses receipt" in counter
    assert "2 redemptions, 1 reversed" in counter
    assert "notices to lijiayuan waiting in the outbox: 3" in counter

    again = _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "rule set version 2 is active (Contribution credit policy (entry tier from 30 " \
           "points)), from an earlier run" in again.stdout


def test_demo_runs_again_with_new_records_for_every_adapter(tmp_path: Path) -> None:
    first = _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path)
    assert first.returncode == 0, first.stderr
    again = _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path)
    assert again.returncode == 0, again.stderr
    # New record ids: nothing is a retry or a conflict, and the poller's cursor moved on.
    assert again.stdout.count("9 records → 5 signed, 4 quarantined") == 4
    assert "events posted: 20 recorded, 4 duplicate, 4 rejected (bad_signature)" in again.stdout
    for platform in PLATFORM_ROUTES:
        status = _adapter_status(platform, tmp_path)
        assert (status["last_seq"], status["backlog"], status["quarantined"]) == (10, 0, 8)
    # 40 events, and per run that found residents with points, 2 redemptions and a reversal
    counters = sum("demo-supervisor reverses" in run.stdout for run in (first, again))
    assert f"chain intact: {40 + 3 * counters} entries" in _run(["verify"], tmp_path).stdout


def test_demo_batch_is_numbered_after_what_the_outbox_saw() -> None:
    lijiayuan = next(platform for platform in PLATFORMS if platform.code == "lijiayuan")
    records = native_batch(adapter_module("lijiayuan"), lijiayuan, seen=100, good=10, bad=2,
                           now=datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert [record["jfjl_id"] for record in records] == \
        [f"LJY{number:08d}" for number in range(101, 113)]
    # The demo's own revocation (and any the simulator wrote) names its award's new id.
    revocations = [record for record in records if record["cz"] == "CX"]
    awards = {record["jfjl_id"] for record in records if record["cz"] == "ADD"}
    assert revocations
    assert all(record["yjfjl_id"] in awards for record in revocations)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_demo_serves_the_api_and_the_console_it_prints(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [POINTSLEDGER, "demo", "--port", str(port), "--events-per-platform", "10"],
        cwd=tmp_path, env=_clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        assert process.stdout is not None
        while "serving the console and the API" not in output and time.monotonic() < deadline:
            output += process.stdout.readline()
        match = re.search(r"export TOKEN=(plt_\S+)", output)
        assert match, f"the demo printed no token: {output}"
        token = match.group(1)
        head = None
        while head is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/ledger/head",
                    headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    head = json.load(response)
            except OSError:
                time.sleep(0.2)
        assert head is not None, "the demo's API never answered"
        # 40 events, and the counter's redemptions when some resident had the points
        assert head["seq"] in (40, 43) and head["count"] == head["seq"]
        address = re.search(r"open (http://\S+/) and sign in", output)
        assert address and address.group(1) == f"http://127.0.0.1:{port}/"
        teller = _printed_passwords(output)["demo-teller"]
        assert _sign_in(address.group(1), "demo-teller", teller).endswith("/console/counter")
    finally:
        stop_process(process, signal.SIGINT, 20)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def _sign_in(address: str, username: str, password: str) -> str:
    """Open the printed address as a browser would, sign in there; the page landed on."""
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(address, timeout=10) as sign_in_page:  # / leads to the sign-in page
        assert sign_in_page.url.endswith("/console/login")
        match = CSRF_FIELD.search(sign_in_page.read().decode("utf-8"))
    assert match, "the sign-in page has no form"
    body = urllib.parse.urlencode({"csrf_token": match.group(1), "username": username,
                                   "password": password}).encode("ascii")
    with browser.open(sign_in_page.url, data=body, timeout=10) as landed:
        assert landed.status == 200
        return str(landed.url)
