"""The admin's pages through Flask's test client (SPEC §12, §13 "Admin"): refusals change nothing
and say why beside the field, a token's form sent twice makes one token, every change is in the
audit trail under the admin's name, and the pages are the admin's alone. Where a page changes
the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.contract.webhook import encode_public_key, public_key_bytes
from ledger.infra.db.models import AuditEvent, Gift, User
from ledger.service import access, administration, registry
from ledger.service.errors import NotFound
from tests.conftest import make_settings
from tests.console.support import ACTOR, PASSWORD, add_people

ADMIN = "zhou.admin"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FORM_KEY_FIELD = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
PAGES = ["/console/admin", "/console/admin/platforms", "/console/admin/platforms/lijiayuan",
         "/console/admin/users", "/console/admin/users/li.teller", "/console/admin/tokens",
         "/console/admin/branches", "/console/admin/gifts"]


@pytest.fixture
def people(database_url: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build(make_settings(database_url, tmp_path=tmp_path))
    add_people(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def unchanged(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """One ledger (SQLite) for the tests whose every request is refused or only reads: each
    checks that nothing changed, so they share it (people and passwords take seconds to make)."""
    directory = tmp_path_factory.mktemp("admin_refusals")
    shutil.copyfile(sqlite_template, directory / "ledger.sqlite3")
    built = build(make_settings(f"sqlite:///{directory / 'ledger.sqlite3'}",
                                tmp_path=directory))
    add_people(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def refused_admin(unchanged: Ledger) -> FlaskClient:
    return _signed_in(unchanged)


def _signed_in(ledger: Ledger, username: str = ADMIN, lang: str = "zh-CN") -> FlaskClient:
    client = create_app(ledger=ledger).test_client()
    client.get(f"/console/login?lang={lang}")
    answer = client.post("/console/login", data={
        "csrf_token": _csrf(client, "/console/login"), "username": username,
        "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


@pytest.fixture
def admin(people: Ledger) -> FlaskClient:
    return _signed_in(people)


def _csrf(client: FlaskClient, path: str) -> str:
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match is not None, path
    return match.group(1)


def _post(client: FlaskClient, path: str, form_page: str, **fields: str) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": _csrf(client, form_page), **fields})
    return answer.status_code, answer.get_data(as_text=True)


def _beside(page: str, field: str) -> str:
    """The errors shown beside one field of the page."""
    match = re.search(rf'id="{field}-errors">([^<]*)<', page)
    assert match is not None, field
    return match.group(1).strip()


def _audit(ledger: Ledger, action: str) -> list[tuple[str, str]]:
    with ledger.sessions() as session:
        return [(row.actor, row.subject) for row in session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def test_every_admin_page_is_the_admins_alone(unchanged: Ledger,
                                              refused_admin: FlaskClient) -> None:
    others = [_signed_in(unchanged, username)
              for username in ("li.teller", "sun.auditor", "wu.operator")]
    for path in PAGES:
        assert refused_admin.get(path).status_code == 200, path
        assert [other.get(path).status_code for other in others] == [403] * len(others), path


def test_a_new_user_with_a_weak_password_is_not_added_at_all(
        admin: FlaskClient, people: Ledger) -> None:
    status, page = _post(admin, "/console/admin/users", "/console/admin/users",
                         username="chen.teller", role="teller", branch="XS-GUALI",
                         password="password1234", repeated="password1234")

    assert status == 422
    assert _beside(page, "password") == "这是最常见的密码之一：请换一个。"
    assert "password1234" not in page
    with people.sessions() as session, pytest.raises(NotFound):
        access.user_of(session, "chen.teller")
    assert _audit(people, "user.added") == [(ACTOR, f"user:{name}") for name in (
        "li.teller", "wang.supervisor", "zhao.risk", "qian.risk", "sun.auditor", ADMIN,
        "wu.operator", "zheng.loans")]


def test_changes_made_on_the_pages_are_audited_under_the_admins_name(
        admin: FlaskClient, people: Ledger) -> None:
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    assert _post(admin, "/console/admin/branches", "/console/admin/branches",
                 code="GL02", name="瓜沥第二支行")[0] == 302
    assert _post(admin, "/console/admin/users", "/console/admin/users", username="chen.teller",
                 role="teller", branch="GL02", password=PASSWORD, repeated=PASSWORD)[0] == 302
    assert _post(admin, "/console/admin/users/chen.teller/role", "/console/admin/users/chen.teller",
                 role="supervisor", branch="GL02")[0] == 302
    assert _post(admin, "/console/admin/platforms/lijiayuan/keys",
                 "/console/admin/platforms/lijiayuan", public_key=public_key)[0] == 302
    assert _post(admin, "/console/admin/gifts", "/console/admin/gifts", sku="RICE-5KG",
                 name="五常大米 5 公斤", points_cost="40")[0] == 302

    for action, subject in [("branch.added", "branch:GL02"), ("user.added", "user:chen.teller"),
                            ("user.password_set", "user:chen.teller"),
                            ("user.role_changed", "user:chen.teller"),
                            ("gift.added", "gift:RICE-5KG")]:
        assert _audit(people, action)[-1] == (ADMIN, subject)
    [(actor, _)] = _audit(people, "key.added")
    assert actor == ADMIN
    with people.sessions() as session:
        chen = access.user_of(session, "chen.teller")
        assert (chen.role, chen.branch) == ("supervisor", "GL02")


def test_a_token_form_sent_twice_makes_one_token(admin: FlaskClient, people: Ledger) -> None:
    form = admin.get("/console/admin/tokens").get_data(as_text=True)
    form_key = FORM_KEY_FIELD.search(form)
    assert form_key is not None
    fields = {"username": "zheng.loans", "ttl_days": "30", "form_key": form_key.group(1)}

    first = _post(admin, "/console/admin/tokens", "/console/admin/tokens", **fields)[1]
    again = _post(admin, "/console/admin/tokens", "/console/admin/tokens", **fields)[1]

    secrets = re.findall(r"plt_[A-Za-z0-9_-]{20,}", first)
    assert len(set(secrets)) == 1
    assert "plt_" not in again and "这张表单已经创建过令牌" in again
    with people.sessions() as session:
        [token] = access.list_tokens(session, "zheng.loans")[0]
    assert secrets[0] not in admin.get("/console/admin/tokens").get_data(as_text=True)
    # A new form (a new key) makes a new token; none while the user is disabled.
    assert "plt_" in _post(admin, "/console/admin/tokens", "/console/admin/tokens",
                           username="zheng.loans", ttl_days="30", form_key="another")[1]
    assert token["username"] == "zheng.loans"
    assert _post(admin, "/console/admin/users/zheng.loans/disable",
                 "/console/admin/users/zheng.loans")[0] == 302
    status, page = _post(admin, "/console/admin/tokens", "/console/admin/tokens",
                         username="zheng.loans", ttl_days="30", form_key="a third")
    assert status == 409
    assert _beside(page, "username") == "zheng.loans 已停用：请先启用，再为其创建令牌。"


@pytest.mark.parametrize(("fields", "field", "said"), [
    ({"username": "nobody.here", "ttl_days": "30"}, "username", "没有这个用户名的用户。"),
    ({"username": "zheng.loans", "ttl_days": "0"}, "ttl_days", "须在 1 至 3650 天之间。"),
    ({"username": "zheng.loans", "ttl_days": "thirty"}, "ttl_days", "请填写整数。"),
])
def test_a_refused_token_says_why_beside_the_field(
        unchanged: Ledger, refused_admin: FlaskClient, fields: dict[str, str], field: str,
        said: str) -> None:
    status, page = _post(refused_admin, "/console/admin/tokens", "/console/admin/tokens", **fields)
    assert status in (404, 422)
    assert _beside(page, field) == said
    with unchanged.sessions() as session:
        assert access.list_tokens(session)[0] == []


@pytest.mark.parametrize(("fields", "field", "said"), [
    ({"role": "auditor", "branch": "XS-GUALI"}, "branch",
     "只有柜员和主管才归属网点：请选择“无”。"),
    ({"role": "supervisor"}, "branch", "柜员和主管须归属一个网点：请选择。"),
    ({"role": "platform_operator"}, "platform", "平台操作员须绑定一个平台：请选择。"),
    ({"role": "teller", "branch": "NOPE"}, "branch", "这个网点尚未登记。"),
])
def test_a_refused_role_change_says_why_beside_the_field(
        unchanged: Ledger, refused_admin: FlaskClient, fields: dict[str, str], field: str,
        said: str) -> None:
    status, page = _post(refused_admin, "/console/admin/users/sun.auditor/role",
                         "/console/admin/users/sun.auditor", **fields)
    assert status in (404, 422)
    assert _beside(page, field) == said
    with unchanged.sessions() as session:
        assert access.user_of(session, "sun.auditor").role == "auditor"


def test_the_last_admin_keeps_the_role(unchanged: Ledger, refused_admin: FlaskClient) -> None:
    status, page = _post(refused_admin, f"/console/admin/users/{ADMIN}/role",
                         f"/console/admin/users/{ADMIN}", role="auditor")
    assert status == 409
    assert "是最后一位启用中的管理员，必须保留管理员角色" in page
    with unchanged.sessions() as session:
        assert access.user_of(session, ADMIN).role == "admin"


def test_a_retired_key_can_be_declared_compromised_but_not_retired_again(
        admin: FlaskClient, people: Ledger) -> None:
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    with people.sessions.begin() as session:
        key_id = administration.add_key(session, ACTOR, "lijiayuan", public_key,
                                        datetime.now(UTC)).key_id
    page = "/console/admin/platforms/lijiayuan"
    revoke = f"{page}/keys/{key_id}/revoke"

    assert _post(admin, revoke, page, kind="retired")[0] == 302
    status, again = _post(admin, revoke, page, kind="retired")
    assert status == 409 and f"密钥 {key_id} 早已按此方式吊销" in again
    assert _post(admin, revoke, page, kind="compromised")[0] == 302

    with people.sessions() as session:
        [key] = registry.keys_of(session, "lijiayuan")
        assert key.revoked_at is not None and key.compromised_at is not None
        assert key.compromised_at >= key.revoked_at
    assert [action for action in ("key.retired", "key.compromised")
            if _audit(people, action) == [(ADMIN, f"key:{key_id}")]] == [
        "key.retired", "key.compromised"]


def test_a_key_is_revoked_only_from_its_own_platforms_page(console_ledger: Ledger) -> None:
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    with console_ledger.sessions.begin() as session:
        now = datetime.now(UTC)
        administration.add_platform(session, ACTOR, "nanyang_young", "南阳young", "南阳街道", now)
        key_id = administration.add_key(session, ACTOR, "lijiayuan", public_key, now).key_id
    admin = _signed_in(console_ledger)
    status, _ = _post(admin, f"/console/admin/platforms/nanyang_young/keys/{key_id}/revoke",
                      "/console/admin/platforms/nanyang_young", kind="compromised")
    assert status == 404
    with console_ledger.sessions() as session:
        [key] = registry.keys_of(session, "lijiayuan")
        assert key.revoked_at is None  # rolled back


@pytest.mark.parametrize(("fields", "field", "said"), [
    ({"code": "Bad-Code", "name": "x", "township": "y"}, "code",
     "平台代码为 2 至 32 个小写字母、数字或“_”，须以字母开头。"),
    ({"code": "lijiayuan", "name": "沥家园", "township": "瓜沥镇"}, "code",
     "平台 lijiayuan 已经登记过。"),
    ({"code": "new_one", "name": "新平台", "township": ""}, "township",
     "请填写运营该平台的镇或街道。"),
])
def test_a_refused_platform_says_why_beside_the_field(
        unchanged: Ledger, refused_admin: FlaskClient, fields: dict[str, str], field: str,
        said: str) -> None:
    status, page = _post(refused_admin, "/console/admin/platforms", "/console/admin/platforms",
                         **fields)
    assert status in (409, 422)
    assert _beside(page, field) == said
    with unchanged.sessions() as session:
        assert [platform.code for platform in registry.list_platforms(session)] == ["lijiayuan"]


def test_a_malformed_public_key_says_why_beside_the_field(
        unchanged: Ledger, refused_admin: FlaskClient) -> None:
    status, page = _post(refused_admin, "/console/admin/platforms/lijiayuan/keys",
                         "/console/admin/platforms/lijiayuan", public_key="whsk_secret")
    assert status == 422
    assert _beside(page, "public_key") == "这不是公钥：请粘贴平台以 whpk_ 开头的公钥。"
    with unchanged.sessions() as session:
        assert registry.keys_of(session, "lijiayuan") == []


@pytest.mark.parametrize(("fields", "field", "said"), [
    ({"sku": "RICE 5KG", "name": "大米", "points_cost": "40"}, "sku",
     "商品编码为 1 至 32 个字母、数字、“.”、“_”或“-”，须以字母或数字开头。"),
    ({"sku": "RICE-5KG", "name": "大米", "points_cost": "0"}, "points_cost",
     "积分须为 1 至 1000000 之间的整数。"),
])
def test_a_refused_gift_says_why_beside_the_field(
        unchanged: Ledger, refused_admin: FlaskClient, fields: dict[str, str], field: str,
        said: str) -> None:
    status, page = _post(refused_admin, "/console/admin/gifts", "/console/admin/gifts", **fields)
    assert status == 422
    assert _beside(page, field) == said
    with unchanged.sessions() as session:
        assert session.scalars(select(Gift)).all() == []


def test_a_refusal_reads_in_english_when_english_is_chosen(unchanged: Ledger) -> None:
    admin = _signed_in(unchanged, lang="en")
    status, page = _post(admin, "/console/admin/branches", "/console/admin/branches",
                         code="XS-GUALI", name="Guali")
    assert status == 409
    assert _beside(page, "code") == "Branch XS-GUALI is already registered."
    assert "Correct what is shown beside the fields. Nothing was changed." in page


def test_a_change_without_its_csrf_token_is_refused_and_changes_nothing(
        unchanged: Ledger, refused_admin: FlaskClient) -> None:
    answer = refused_admin.post("/console/admin/users/li.teller/disable", data={})
    assert answer.status_code == 400
    with unchanged.sessions() as session:
        assert session.scalar(select(User.disabled_at).where(User.username == "li.teller")) \
            is None


def test_the_users_list_goes_on_page_by_page(refused_admin: FlaskClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger.console.admin.people.PAGE_SIZE", 3)
    admin = refused_admin
    seen: list[str] = []
    path: str | None = "/console/admin/users"
    while path is not None:
        page = admin.get(path).get_data(as_text=True)
        seen += re.findall(r'href="/console/admin/users/([a-z.]+)"', page)
        following = re.search(r'href="(/console/admin/users\?after=\d+)"', page)
        path = following.group(1) if following else None
    assert seen == ["li.teller", "wang.supervisor", "zhao.risk", "qian.risk", "sun.auditor",
                    ADMIN, "wu.operator", "zheng.loans"]
