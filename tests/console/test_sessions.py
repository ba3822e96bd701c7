"""Console sessions live on the server (SPEC §12, §13): disabling a user or changing their role
ends their sessions at the next request; sessions end when idle and when too old; sign-ins,
failures and lock-outs are in the audit trail; the lock-out lasts 15 minutes. On SQLite and
PostgreSQL, through the app, with a clock the test moves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.infra.db.models import AuditEvent, ConsoleSession
from ledger.service import administration
from ledger.service.audit_trail import verify_audit_trail
from tests.conftest import make_settings
from tests.console.support import ACTOR, PASSWORD, add_people

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def clocked(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    built = build(make_settings(database_url, tmp_path=tmp_path), clock)
    add_people(built)
    yield built
    built.close()


@pytest.fixture
def browser_client(clocked: Ledger) -> FlaskClient:
    return create_app(ledger=clocked).test_client()


def _csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    response = client.post("/console/login", data={
        "csrf_token": _csrf(client, "/console/login"), "username": username,
        "password": password})
    return response.status_code


def signed_in(client: FlaskClient) -> bool:
    return client.get("/console/counter").status_code == 200


def _audit(ledger: Ledger) -> list[tuple[str, str, str]]:
    with ledger.sessions() as session:
        return [(row.actor, row.action, row.subject) for row in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("console.%"))
            .order_by(AuditEvent.seq))]


def test_disabling_a_user_ends_their_session_at_the_next_request(
        browser_client: FlaskClient, clocked: Ledger) -> None:
    assert sign_in(browser_client, "li.teller") == 302 and signed_in(browser_client)

    with clocked.sessions.begin() as session:
        administration.set_disabled(session, ACTOR, "li.teller", True, START)

    assert not signed_in(browser_client)
    with clocked.sessions() as session:
        [ended] = session.scalars(select(ConsoleSession)).all()
    assert ended.end_reason == "user_disabled" and ended.ended_at is not None


def test_a_disabled_user_cannot_sign_in(browser_client: FlaskClient, clocked: Ledger) -> None:
    with clocked.sessions.begin() as session:
        administration.set_disabled(session, ACTOR, "li.teller", True, START)
    assert sign_in(browser_client, "li.teller") == 401


def test_a_new_role_ends_the_session(browser_client: FlaskClient, clocked: Ledger) -> None:
    sign_in(browser_client, "li.teller")

    with clocked.sessions.begin() as session:
        administration.set_role(session, ACTOR, "li.teller", "supervisor", "XS-GUALI", None,
                                START)

    assert not signed_in(browser_client)
    assert sign_in(browser_client, "li.teller") == 302
    assert browser_client.get("/console/branch").status_code == 200  # as a supervisor now


def test_signing_in_again_ends_the_session_it_replaces(
        browser_client: FlaskClient, clocked: Ledger) -> None:
    sign_in(browser_client, "li.teller")
    sign_in(browser_client, "wang.supervisor")

    with clocked.sessions() as session:
        rows = session.scalars(select(ConsoleSession).order_by(ConsoleSession.created_at,
                                                              ConsoleSession.role)).all()
    assert sorted((row.role, row.end_reason) for row in rows) == [
        ("supervisor", None), ("teller", "replaced")]


def test_a_session_ends_after_15_idle_minutes_and_10_hours_in_all(
        browser_client: FlaskClient, clock: Clock) -> None:
    sign_in(browser_client, "li.teller")
    for _ in range(40):  # ten hours of work, a page every 15 minutes less a second
        clock.now += timedelta(minutes=15) - timedelta(seconds=1)
        if not signed_in(browser_client):
            break
    assert clock.now - START >= timedelta(hours=10) - timedelta(minutes=15)
    assert clock.now - START <= timedelta(hours=10)

    sign_in(browser_client, "li.teller")
    clock.now += timedelta(minutes=15)
    assert not signed_in(browser_client)


def test_sign_ins_failures_and_lock_outs_are_audited_and_the_lock_lasts_15_minutes(
        browser_client: FlaskClient, clocked: Ledger, clock: Clock) -> None:
    assert sign_in(browser_client, "li.teller") == 302
    browser_client.post("/console/logout",
                        data={"csrf_token": _csrf(browser_client, "/console/counter")})
    for _ in range(5):
        assert sign_in(browser_client, "li.teller", "a wrong password!") == 401
    clock.now += timedelta(minutes=14, seconds=59)
    assert sign_in(browser_client, "li.teller") == 401
    clock.now += timedelta(seconds=1)
    assert sign_in(browser_client, "li.teller") == 302

    assert _audit(clocked) == [
        ("li.teller", "console.signed_in", "user:li.teller"),
        ("li.teller", "console.signed_out", "user:li.teller"),
        *[("console:anonymous", "console.sign_in_failed", "user:li.teller")] * 5,
        ("console:anonymous", "console.locked_out", "user:li.teller"),
        ("console:anonymous", "console.sign_in_refused_locked", "user:li.teller"),
        ("li.teller", "console.signed_in", "user:li.teller"),
    ]
    with clocked.sessions() as session:
        assert verify_audit_trail(session).intact


def test_failures_spread_beyond_15_minutes_do_not_lock(
        browser_client: FlaskClient, clock: Clock) -> None:
    for _ in range(8):
        assert sign_in(browser_client, "li.teller", "a wrong password!") == 401
        clock.now += timedelta(minutes=4)
    assert sign_in(browser_client, "li.teller") == 302


def test_a_success_starts_the_count_afresh(browser_client: FlaskClient) -> None:
    for _ in range(4):
        sign_in(browser_client, "li.teller", "a wrong password!")
    assert sign_in(browser_client, "li.teller") == 302
    for _ in range(4):
        assert sign_in(browser_client, "li.teller", "a wrong password!") == 401
    assert sign_in(browser_client, "li.teller") == 302


def test_an_id_number_typed_as_a_username_is_masked_in_the_audit_trail(
        browser_client: FlaskClient, clocked: Ledger) -> None:
    sign_in(browser_client, "330109198001011234", "whatever it is")
    [(_, _, subject)] = _audit(clocked)
    assert subject == "user:330109********1234"


def test_console_answers_carry_the_security_headers(browser_client: FlaskClient) -> None:
    for path in ("/console/login", "/console/static/console.css", "/console/nowhere"):
        with browser_client.get(path) as response:  # closed: a static file is a stream
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
            assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-store"


def test_cookies_are_httponly_lax_and_secure_over_https(browser_client: FlaskClient) -> None:
    token = _csrf(browser_client, "/console/login")
    plain = browser_client.post("/console/login", data={
        "csrf_token": token, "username": "li.teller", "password": PASSWORD})
    cookie = next(value for value in plain.headers.getlist("Set-Cookie")
                  if value.startswith("pointsledger_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    secure = browser_client.application.test_client()
    page = secure.get("/console/login", base_url="https://localhost").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match is not None
    # Over HTTPS a form must also come from our own pages (as the browser's Referer says).
    over_https = secure.post("/console/login", base_url="https://localhost", data={
        "csrf_token": match.group(1), "username": "li.teller", "password": PASSWORD},
        headers={"Referer": "https://localhost/console/login"})
    cookie = next(value for value in over_https.headers.getlist("Set-Cookie")
                  if value.startswith("pointsledger_console="))
    assert "Secure" in cookie
