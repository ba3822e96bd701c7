"""The rules pages' finer points, through the app (SPEC §8, §13), on SQLite and PostgreSQL:
the server refuses what the page does not offer (four eyes, approval before a simulation) and
changes nothing; validation problems by path; an ID number never comes back in a page; who may
open which page; a decision replays; the explanation in English."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.app import create_app
from ledger.bootstrap import build
from ledger.infra.db.models import AuditEvent, Decision
from ledger.service.rules import lifecycle, simulations
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.versions import Status, load_versions
from tests.conftest import make_settings
from tests.console.rules_support import (
    ID_NUMBER_A,
    RESIDENT_A,
    County,
    county,
)
from tests.console.support import PASSWORD, add_people
from tests.rules.support import now

ZHAO = lifecycle.Actor("zhao.risk", "risk_officer")
QIAN = lifecycle.Actor("qian.risk", "risk_officer")


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> Iterator[County]:
    built = build(make_settings(database_url, tmp_path=tmp_path))
    add_people(built)
    yield county(built)
    built.close()


@pytest.fixture
def app_client(seeded: County) -> FlaskClient:
    return create_app(ledger=seeded.ledger).test_client()


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert match is not None, path
    return match.group(1)


def _sign_in(client: FlaskClient, username: str) -> None:
    response = client.post("/console/login", data={
        "csrf_token": _token(client, "/console/login"), "username": username,
        "password": PASSWORD})
    assert response.status_code == 302


def _submitted_draft(seeded: County) -> int:
    """zhao.risk's draft, submitted, not simulated: tier 4 from 50 points instead of 100."""
    document = json.loads(json.dumps(DEFAULT_RULESET))
    document["tiers"][3]["when"]["min_score"] = 50
    with seeded.ledger.sessions.begin() as session:
        version = lifecycle.draft(session, ZHAO, document, "lower tier 4", now())
        lifecycle.submit(session, ZHAO, version, "ready", now())
    return version


def _status(seeded: County, version: int) -> Status:
    with seeded.ledger.sessions() as session:
        return load_versions(session, now()).get(version).status


def _audit_events(seeded: County) -> int:
    with seeded.ledger.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_the_author_is_not_offered_approve_and_the_server_refuses_it(
        seeded: County, app_client: FlaskClient) -> None:
    version = _submitted_draft(seeded)
    _sign_in(app_client, "zhao.risk")
    page = app_client.get(f"/console/rules/{version}").get_data(as_text=True)
    assert f"/console/rules/{version}/approve" not in page
    before = _audit_events(seeded)

    response = app_client.post(f"/console/rules/{version}/approve", data={
        "csrf_token": _token(app_client, f"/console/rules/{version}"),
        "approve-comment": "my own"})

    assert response.status_code == 403
    assert f"版本 {version} 由您起草，须由另一位风险官批准（双人审核）。" in response.get_data(
        as_text=True)
    assert _status(seeded, version) is Status.SUBMITTED
    assert _audit_events(seeded) == before


def test_approval_before_a_simulation_is_refused_with_the_active_version(
        seeded: County, app_client: FlaskClient) -> None:
    version = _submitted_draft(seeded)
    _sign_in(app_client, "qian.risk")
    page = app_client.get(f"/console/rules/{version}").get_data(as_text=True)
    assert f"/console/rules/{version}/approve" in page

    response = app_client.post(f"/console/rules/{version}/approve", data={
        "csrf_token": _token(app_client, f"/console/rules/{version}"),
        "approve-comment": "looks fine"})

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert (f"批准版本 {version} 前，需要先以当前生效的版本 {seeded.active_version} "
            "为基准做一次模拟测算。") in text
    assert "looks fine" in text  # the comment is kept in the form
    assert _status(seeded, version) is Status.SUBMITTED


def test_a_step_without_a_comment_changes_nothing(seeded: County,
                                                  app_client: FlaskClient) -> None:
    version = _submitted_draft(seeded)
    _sign_in(app_client, "qian.risk")

    response = app_client.post(f"/console/rules/{version}/reject", data={
        "csrf_token": _token(app_client, f"/console/rules/{version}"), "reject-comment": " "})

    assert response.status_code == 422
    assert "请填写说明：它会随这一步记入审计记录。" in response.get_data(as_text=True)
    assert _status(seeded, version) is Status.SUBMITTED


def test_every_problem_of_a_draft_is_shown_at_its_path_and_nothing_is_saved(
        seeded: County, app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")
    document = json.loads(json.dumps(DEFAULT_RULESET))
    document["window_months"] = 0
    document["platforms"]["lijiayuan"]["weight"] = 1.0
    document["tiers"][4]["when"] = {"min_score": 0}
    document["colour"] = "green"

    response = app_client.post("/console/rules/drafts", data={
        "csrf_token": _token(app_client, "/console/rules/new?from=1"),
        "document": json.dumps(document), "comment": "a try"})

    assert response.status_code == 422
    shown = re.findall(r'<code class="path">([^<]+)</code>: <span class="message">([^<]+)<',
                       response.get_data(as_text=True))
    assert dict(shown) == {
        "colour": "规则集中没有这个字段。",
        "window_months": "必须在 1 到 120 之间。",
        "platforms.lijiayuan.weight": "权重要加引号，写成小数文本，例如 &#34;1.0&#34;。",
        "tiers[4].when": "最后一档必须适用于所有人（&#34;when&#34;: {}）。",
    }
    with seeded.ledger.sessions() as session:
        assert list(load_versions(session, now()).by_version) == [seeded.active_version]


def test_text_that_is_not_json_is_shown_where_it_stops(seeded: County,
                                                       app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")

    response = app_client.post("/console/rules/drafts", data={
        "csrf_token": _token(app_client, "/console/rules/new?from=1"),
        "document": '{\n  "name": "x",\n  "tiers": [,]\n}', "comment": "a try"})

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "这不是有效的 JSON：第 3 行第 13 列" in text
    assert "&#34;tiers&#34;: [,]" in text  # the text stays as typed


def test_a_draft_from_a_file_and_from_the_default(seeded: County,
                                                  app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")
    uploaded = json.dumps({**DEFAULT_RULESET, "name": "From a file"}).encode("utf-8")

    from_file = app_client.post("/console/rules/new", data={
        "csrf_token": _token(app_client, "/console/rules"), "source": "file",
        "file": (io.BytesIO(uploaded), "rules.json")}, content_type="multipart/form-data")
    from_default = app_client.post("/console/rules/new", data={
        "csrf_token": _token(app_client, "/console/rules"), "source": "default"})
    without_file = app_client.post("/console/rules/new", data={
        "csrf_token": _token(app_client, "/console/rules"), "source": "file"})

    assert from_file.status_code == 200 and "From a file" in from_file.get_data(as_text=True)
    assert "Contribution credit policy (default)" in from_default.get_data(as_text=True)
    assert without_file.status_code == 422
    assert "请选择要使用的文件。" in without_file.get_data(as_text=True)


def test_a_draft_saved_from_the_editor_is_a_new_version(seeded: County,
                                                        app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")

    response = app_client.post("/console/rules/drafts", data={
        "csrf_token": _token(app_client, "/console/rules/new?from=1"),
        "document": json.dumps(DEFAULT_RULESET), "comment": "same again"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/rules/{seeded.active_version + 1}"
    assert _status(seeded, seeded.active_version + 1) is Status.DRAFT
    page = app_client.get(response.headers["Location"]).get_data(as_text=True)
    before, after = seeded.active_version, seeded.active_version + 1
    assert f"版本 {before} 和版本 {after} 的规则文件相同。" in page


def test_the_id_number_is_never_written_back_and_a_wrong_one_is_not_repeated(
        seeded: County, app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")
    wrong = ID_NUMBER_A[:-1] + ("0" if ID_NUMBER_A[-1] != "0" else "1")

    found = app_client.post("/console/rules/terms", data={
        "csrf_token": _token(app_client, "/console/rules/terms"), "id_number": ID_NUMBER_A})
    refused = app_client.post("/console/rules/terms", data={
        "csrf_token": _token(app_client, "/console/rules/terms"), "id_number": wrong})

    assert found.status_code == 200
    assert RESIDENT_A in found.get_data(as_text=True)
    assert ID_NUMBER_A not in found.get_data(as_text=True)
    assert refused.status_code == 422
    assert "这不是有效的居民身份证号，请核对后重新输入。" in refused.get_data(as_text=True)
    assert wrong not in refused.get_data(as_text=True)


def test_a_decision_replays_and_agrees(seeded: County, app_client: FlaskClient) -> None:
    _sign_in(app_client, "zhao.risk")
    app_client.post("/console/rules/terms", data={
        "csrf_token": _token(app_client, "/console/rules/terms"), "resident": RESIDENT_A})
    with seeded.ledger.sessions() as session:
        decision_id = session.scalars(select(Decision.id)).one()

    lookup = app_client.get(f"/console/rules/decisions?decision_id={decision_id.upper()}")
    page = app_client.get(f"/console/rules/decisions/{decision_id}")
    unknown = app_client.get("/console/rules/decisions/00000000-0000-0000-0000-000000000000")

    assert lookup.status_code == 302
    assert lookup.headers["Location"] == f"/console/rules/decisions/{decision_id}"
    assert page.status_code == 200
    assert "一致：按版本 1、用截至第" in page.get_data(as_text=True)
    assert unknown.status_code == 404


def test_who_may_print_an_explanation(seeded: County, app_client: FlaskClient) -> None:
    opened = {}
    for username in ("li.teller", "wang.supervisor", "zhao.risk", "sun.auditor", "zhou.admin",
                     "wu.operator"):
        _sign_in(app_client, username)
        opened[username] = app_client.get(
            f"/console/rules/explanation?resident={RESIDENT_A}").status_code

    assert opened == {"li.teller": 200, "wang.supervisor": 200, "zhao.risk": 200,
                      "sun.auditor": 403, "zhou.admin": 403, "wu.operator": 403}


def test_only_risk_officers_open_the_rules(seeded: County, app_client: FlaskClient) -> None:
    _sign_in(app_client, "li.teller")

    for path in ("/console/rules", "/console/rules/1", "/console/rules/terms",
                 "/console/rules/decisions", "/console/rules/1/simulations/1"):
        assert app_client.get(path).status_code == 403, path


def test_the_explanation_in_english_by_id_number(seeded: County,
                                                 app_client: FlaskClient) -> None:
    _sign_in(app_client, "li.teller")

    response = app_client.post("/console/rules/explanation?lang=en", data={
        "csrf_token": _token(app_client, "/console/rules/explanation?lang=en"),
        "id_number": ID_NUMBER_A})

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("You reached tier 3 of 5. It gives you a limit uplift of 50,000 CNY and a rate "
            "discount of 0.15 percentage points.") in text
    assert "A score of at least 600: yours is 550, 50 points short." in text
    assert "Garbage sorting" in text and "沥家园 (瓜沥镇)" in text
    assert ID_NUMBER_A not in text


def test_an_approval_can_wait_for_its_moment_but_not_start_in_the_past(
        seeded: County, app_client: FlaskClient) -> None:
    version = _submitted_draft(seeded)
    simulations.simulate(seeded.ledger.sessions, QIAN, version, now())
    _sign_in(app_client, "qian.risk")
    shanghai = now().astimezone(ZoneInfo("Asia/Shanghai"))

    past = app_client.post(f"/console/rules/{version}/approve", data={
        "csrf_token": _token(app_client, f"/console/rules/{version}"),
        "approve-comment": "backdated",
        "approve-effective_from": (shanghai - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    assert past.status_code == 422
    assert "生效时间不能早于现在" in past.get_data(as_text=True)
    assert _status(seeded, version) is Status.SUBMITTED

    tomorrow = (shanghai + timedelta(days=1)).replace(second=0, microsecond=0)
    scheduled = app_client.post(f"/console/rules/{version}/approve", data={
        "csrf_token": _token(app_client, f"/console/rules/{version}"),
        "approve-comment": "from tomorrow",
        "approve-effective_from": tomorrow.strftime("%Y-%m-%dT%H:%M")})
    assert scheduled.status_code == 302
    with seeded.ledger.sessions() as session:
        state = load_versions(session, now()).get(version)
    assert (state.status, state.active) == (Status.APPROVED, False)
    assert state.effective_from == tomorrow.astimezone(UTC)


def test_only_its_author_replaces_a_draft(seeded: County, app_client: FlaskClient) -> None:
    with seeded.ledger.sessions.begin() as session:
        draft = lifecycle.draft(session, ZHAO, DEFAULT_RULESET, "first go", now())
    _sign_in(app_client, "qian.risk")
    assert "replaces=" not in app_client.get(f"/console/rules/{draft}").get_data(as_text=True)

    forged = app_client.post("/console/rules/drafts", data={
        "csrf_token": _token(app_client, f"/console/rules/new?from={draft}"),
        "document": json.dumps(DEFAULT_RULESET), "comment": "mine now", "replaces": draft})
    assert forged.status_code == 403
    assert f"版本 {draft} 是 zhao.risk 的草稿：只有起草人本人可以这样操作。" in forged.get_data(
        as_text=True)

    _sign_in(app_client, "zhao.risk")
    editor = app_client.get(f"/console/rules/new?replaces={draft}").get_data(as_text=True)
    assert f'name="replaces" type="hidden" value="{draft}"' in editor
    replaced = app_client.post("/console/rules/drafts", data={
        "csrf_token": _token(app_client, f"/console/rules/new?replaces={draft}"),
        "document": json.dumps(DEFAULT_RULESET), "comment": "second go", "replaces": draft})
    assert replaced.status_code == 302
    assert _status(seeded, draft) is Status.SUPERSEDED
