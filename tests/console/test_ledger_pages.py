"""The finer points of the auditor's and the platform operator's pages, through the app on
SQLite and PostgreSQL: filters and pages newest first, whole Beijing days, the audit trail by
action family, `Verify`'s progress and findings, a decision's replay, and an operator who cannot
see past their own platform however the request is written."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.console.ledger_pages.filters import BEIJING
from ledger.contract.categories import EntryKind
from ledger.service import chain_audit
from ledger.service.audit_trail import AuditFilter, audit_page, verify_audit_trail
from ledger.service.chain_audit import ChainFault, audit_chain, audit_chain_in_steps
from ledger.service.ledger_read import (
    EntryFilter,
    entries_page,
    entry_at,
    platform_events_page,
)
from ledger.service.own_entries import append_own_entry, lock_ledger
from ledger.service.paging import Keyset
from ledger.service.rules import terms
from tests.console.ledger_seed import ID_NUMBER, Seeded, seed, tamper
from tests.console.support import BRANCH, add_people
from tests.console.test_sessions import sign_in
from tests.rules.support import activate, spec_document
from tests.support import RESIDENT_A


@pytest.fixture
def seeded(ledger: Ledger) -> Seeded:
    add_people(ledger)
    return seed(ledger)


@pytest.fixture
def browser_client(ledger: Ledger, seeded: Seeded) -> FlaskClient:
    return create_app(ledger=ledger).test_client()


def _as(client: FlaskClient, username: str) -> FlaskClient:
    assert sign_in(client, username) == 302
    return client


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _seqs(page: str) -> list[int]:
    """The seqs of the entries a page lists, in the order it lists them."""
    return [int(seq) for seq in re.findall(r'<td class="number seq">(?:<a [^>]*>)?(\d+)', page)]


def test_entries_filter_by_platform_kind_and_whole_beijing_days(
        browser_client: FlaskClient, ledger: Ledger) -> None:
    auditor = _as(browser_client, "sun.auditor")
    with ledger.sessions() as session:
        first = entry_at(session, 1)
    assert first is not None
    day = first.recorded_at.astimezone(BEIJING).date()

    everything = _page(auditor, "/console/ledger/entries")
    wuhe = _page(auditor, "/console/ledger/entries?platform=wuhe")
    deducted = _page(auditor, "/console/ledger/entries?kind=points.deducted")
    that_day = _page(auditor, f"/console/ledger/entries?since={day}&until={day}")
    next_day = _page(auditor, f"/console/ledger/entries?since={day + timedelta(days=1)}")

    assert _seqs(everything) == [6, 5, 4, 3, 2, 1]  # newest first
    assert _seqs(wuhe) == [6, 5]
    assert _seqs(deducted) == [3]
    assert _seqs(that_day) == [6, 5, 4, 3, 2, 1]
    assert _seqs(next_day) == [] and "没有符合筛选条件的台账记录" in next_day


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no query is made
def test_a_reversed_date_range_is_refused_beside_the_field(
        browser_client: FlaskClient) -> None:
    page = _page(_as(browser_client, "sun.auditor"),
                 "/console/ledger/rejections?since=2026-12-05&until=2026-12-01")

    assert "截止日期早于起始日期。" in page
    assert "<tbody>" not in page  # nothing listed under a filter that cannot hold


def test_pages_newest_first_walk_every_entry_once(ledger: Ledger, seeded: Seeded) -> None:
    walked: list[list[int]] = []
    cursor: int | None = None
    with ledger.sessions() as session:
        while True:
            found = entries_page(session, Keyset(4, cursor, newest_first=True))
            walked.append([row.seq for row in found.items])
            if found.next is None:
                break
            cursor = found.next
        oldest_first = entries_page(session, Keyset(2, 1), EntryFilter(platform="lijiayuan"))
        # An operator's list takes its platform apart from the filters, which cannot widen it.
        by_own_seq = platform_events_page(session, "lijiayuan", Keyset(3, newest_first=True),
                                          EntryFilter(platform="wuhe"))

    assert walked == [[6, 5, 4, 3], [2, 1]]
    assert [row.seq for row in oldest_first.items] == [2, 3] and oldest_first.next == 3
    assert [row.platform_seq for row in by_own_seq.items] == [6, 3, 2] and by_own_seq.next == 2


def test_rejections_filter_by_platform_and_reason_and_show_the_masked_body(
        browser_client: FlaskClient, seeded: Seeded) -> None:
    auditor = _as(browser_client, "sun.auditor")

    wuhe = _page(auditor, "/console/ledger/rejections?platform=wuhe&reason=schema_invalid")
    signatures = _page(auditor, "/console/ledger/rejections?reason=bad_signature")
    kept = _page(auditor, "/console/ledger/rejections/1")

    assert "wuhe-3" in wuhe and "lijiayuan-" not in wuhe
    assert "没有符合筛选条件的拒收记录" in signatures
    assert ID_NUMBER not in kept and "330109********1234" in kept
    assert seeded.id_number_body_sha256 in kept
    assert _as(browser_client, "sun.auditor").get(
        "/console/ledger/rejections/99").status_code == 404


def test_the_audit_trail_filters_by_action_or_its_family_and_by_subject(
        ledger: Ledger, seeded: Seeded) -> None:
    newest = Keyset(100, newest_first=True)
    with ledger.sessions() as session:
        family = audit_page(session, newest, AuditFilter(action="user")).items
        exact = audit_page(session, newest, AuditFilter(action="user.added")).items
        not_a_family = audit_page(session, newest, AuditFilter(action="use")).items
        wildcard = audit_page(session, newest, AuditFilter(action="user_")).items
        subject = audit_page(session, newest, AuditFilter(subject="user:li.teller")).items

    assert {row.action for row in family} == {"user.added", "user.password_set"}
    assert [row.seq for row in family] == sorted((row.seq for row in family), reverse=True)
    assert {row.action for row in exact} == {"user.added"} and len(exact) == 8
    assert not_a_family == [] and wildcard == []
    assert [row.action for row in subject] == ["user.password_set", "user.added"]


def test_verification_tells_its_progress_against_the_head_as_it_goes(
        ledger: Ledger, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_audit, "READ_BATCH_SIZE", 4)
    told: list[tuple[int, int]] = []

    with ledger.sessions() as session:
        report = audit_chain(session, lambda done, total: told.append((done, total)))
    in_steps = audit_chain_in_steps(ledger.sessions)

    assert told == [(4, 6), (6, 6), (6, 6)]
    assert report.intact and report.entries == 6
    assert in_steps == report


@pytest.mark.parametrize(("statement", "seq", "fault"), [
    ("UPDATE ledger_entries SET points = 2000 WHERE seq = 3", 3, ChainFault.ALTERED),
    ("DELETE FROM ledger_entries WHERE seq = 2", 2, ChainFault.MISSING),
])
def test_verification_in_steps_names_the_first_bad_entry_as_verify_does(
        ledger: Ledger, seeded: Seeded, statement: str, seq: int, fault: ChainFault) -> None:
    with ledger.engine.begin() as connection:
        if statement.startswith("DELETE") and connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ALL"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ALL"))
        elif statement.startswith("DELETE"):
            connection.execute(text("DROP TRIGGER ledger_entries_no_delete"))
            connection.execute(text(statement))
        else:
            tamper(connection, statement)

    in_steps = audit_chain_in_steps(ledger.sessions)
    with ledger.sessions() as session:
        in_one_session = audit_chain(session)
        trail = verify_audit_trail(session)

    assert (in_steps.first_bad_seq, in_steps.fault, in_steps.entries) == (seq, fault, seq - 1)
    assert in_one_session == in_steps
    assert trail.intact


def test_a_decision_is_replayed_with_its_explanation(
        browser_client: FlaskClient, ledger: Ledger) -> None:
    activate(ledger, spec_document(platforms={"lijiayuan": {"weight": "1.0"},
                                              "wuhe": {"weight": "0.5"}}))
    with ledger.sessions.begin() as session:
        decision_id = terms.credit_terms(session, RESIDENT_A, "zheng.loans",
                                         datetime.now(UTC))["decision_id"]
    auditor = _as(browser_client, "sun.auditor")

    replayed = _page(auditor, f"/console/ledger/decisions?decision_id={decision_id.upper()}")
    malformed = _page(auditor, "/console/ledger/decisions?decision_id=42")
    unknown = _page(auditor, f"/console/ledger/decisions?decision_id={uuid.uuid4()}")

    assert "一致：按第" in replayed and decision_id in replayed
    assert "计入了哪些积分" in replayed and "垃圾分类" in replayed and "志愿服务" in replayed
    assert "决策编号的格式如" in malformed
    assert "没有这个编号的决策。" in unknown


def test_the_operator_cannot_widen_their_view_however_the_request_is_written(
        browser_client: FlaskClient, ledger: Ledger) -> None:
    with ledger.sessions.begin() as session:
        lock_ledger(session)  # a redemption at the counter: the bank's, not the platform's
        append_own_entry(session, EntryKind.REDEEMED, "lijiayuan", RESIDENT_A, 5,
                         datetime.now(UTC), str(uuid.uuid4()), BRANCH)
    operator = _as(browser_client, "wu.operator")

    events = _page(operator, "/console/platform/events?platform=wuhe")
    rejections = _page(operator, "/console/platform/rejections?platform=wuhe")
    home = _page(operator, "/console/platform?event_id=wuhe-1")

    assert _seqs(events) == [4, 3, 2, 1] and "柜台兑换" not in events
    assert "lijiayuan-8" in rejections and "wuhe-3" not in rejections
    assert "台账没有收到过这个编号的事件" in home and "五和" not in home
    assert operator.get("/console/platform/rejections/3").status_code == 404  # wuhe's
    assert operator.get("/console/platform/rejections/1").status_code == 200
    for auditors_page in ("/console/ledger", "/console/ledger/entries",
                          "/console/ledger/rejections/3", "/console/ledger/platforms"):
        assert operator.get(auditors_page).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL cannot hold it
def test_an_entry_changed_into_something_unreadable_is_named_not_a_failure(
        browser_client: FlaskClient, ledger: Ledger) -> None:
    with ledger.engine.begin() as connection:
        tamper(connection, "UPDATE ledger_entries SET occurred_at = 'not a date' WHERE seq = 2")

    report = audit_chain_in_steps(ledger.sessions)
    page = _page(_as(browser_client, "sun.auditor"), "/console/ledger/entries/2")

    assert (report.first_bad_seq, report.fault) == (2, ChainFault.UNREADABLE)
    assert "第 2 号记录无法读取" in page
