"""SPEC §3, §12: the registry and access commands, as an operator runs them (embedded SQLite).

Exit codes: 0 success, 2 usage or input error, with one sentence on stderr and no traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pwd
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ledger.bootstrap import Ledger, build
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import decode_private_key, encode_public_key, public_key_bytes
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import Delivery
from ledger.infra.db.models import ApiToken, AuditEvent, Branch, Platform, PlatformKey, User
from ledger.service.access import authenticate, verify_password
from tests.conftest import make_settings
from tests.ledger.helpers import invoke, now_s
from tests.support import TEST_PEPPER, PlatformFixture

VALID_ID_NUMBER = "11010519491231002X"


@pytest.fixture
def url(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # anything written to var/ stays in the test's directory
    return sqlite_url


@pytest.fixture
def wired(url: str, tmp_path: Path) -> Iterator[Ledger]:
    """The same database, wired in-process, to look at what the commands did."""
    built = build(make_settings(url, tmp_path=tmp_path))
    yield built
    built.close()


def ok(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.splitlines()


def refused(result: Result, *fragments: str) -> str:
    """Exit 2 with one sentence on stderr, no traceback; the sentence holds every fragment."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def add_platform(url: str, code: str = "lijiayuan") -> None:
    ok(invoke(url, "platforms", "add", code, "--name", "沥家园", "--township", "瓜沥镇"))


def test_platforms_add_registers_a_platform(url: str, wired: Ledger) -> None:
    assert ok(invoke(url, "platforms", "add", "lijiayuan", "--name", "沥家园",
                     "--township", "瓜沥镇")) == ["platform lijiayuan registered"]
    with wired.sessions() as session:
        platform = session.get(Platform, "lijiayuan")
        assert platform is not None
        assert (platform.name, platform.township, platform.last_seq) == ("沥家园", "瓜沥镇", 0)


def test_platforms_add_twice_is_refused(url: str) -> None:
    add_platform(url)
    refused(invoke(url, "platforms", "add", "lijiayuan", "--name", "x", "--township", "y"),
            "lijiayuan", "already registered")


def test_platforms_add_refuses_a_bad_code(url: str) -> None:
    refused(invoke(url, "platforms", "add", "Li Jia Yuan", "--name", "x", "--township", "y"),
            "platform code")


def test_keys_generate_writes_a_private_key_only_its_owner_can_read(
        url: str, tmp_path: Path, wired: Ledger) -> None:
    add_platform(url)
    out = tmp_path / "keys" / "lijiayuan.key"
    key_id, public_key = ok(invoke(url, "keys", "generate", "lijiayuan", "--out", str(out)))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private_text = out.read_text().strip()
    assert private_text.startswith("whsk_")
    assert public_key.startswith("whpk_")
    assert encode_public_key(public_key_bytes(decode_private_key(private_text))) == public_key
    assert key_id.startswith("key_")
    with wired.sessions() as session:
        registered = session.get(PlatformKey, key_id)
        assert registered is not None
        assert registered.platform == "lijiayuan" and registered.revoked_at is None
        assert encode_public_key(registered.public_key) == public_key


def test_keys_generate_never_overwrites_a_file(url: str, tmp_path: Path) -> None:
    add_platform(url)
    out = tmp_path / "existing.key"
    out.write_text("precious\n")
    refused(invoke(url, "keys", "generate", "lijiayuan", "--out", str(out)), "already exists")
    assert out.read_text() == "precious\n"


def test_keys_generate_for_an_unknown_platform_writes_nothing(url: str, tmp_path: Path) -> None:
    out = tmp_path / "nowhere.key"
    refused(invoke(url, "keys", "generate", "nowhere", "--out", str(out)), "not registered")
    assert not out.exists()


def test_keys_add_registers_a_public_key_and_prints_its_id(url: str, wired: Ledger) -> None:
    add_platform(url)
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    (key_id,) = ok(invoke(url, "keys", "add", "lijiayuan", "--public-key", public_key))
    with wired.sessions() as session:
        registered = session.get(PlatformKey, key_id)
        assert registered is not None and encode_public_key(registered.public_key) == public_key
    refused(invoke(url, "keys", "add", "lijiayuan", "--public-key", public_key),
            "already registered", key_id)


@pytest.mark.parametrize("public_key", ["whsk_" + "A" * 43 + "=", "whpk_not-base64",
                                        "whpk_" + "AAAA"])
def test_keys_add_refuses_what_is_not_a_public_key(url: str, public_key: str) -> None:
    add_platform(url)
    refused(invoke(url, "keys", "add", "lijiayuan", "--public-key", public_key), "whpk_")


def test_keys_revoke_refuses_later_signatures(url: str, wired: Ledger) -> None:
    add_platform(url)
    key_file = Path("lijiayuan.key")
    key_id, _ = ok(invoke(url, "keys", "generate", "lijiayuan", "--out", str(key_file)))
    (line,) = ok(invoke(url, "keys", "revoke", key_id))
    assert line.startswith(f"key {key_id} retired at ")
    assert "accepted until" in line
    with wired.sessions() as session:
        key = session.get(PlatformKey, key_id)
        assert key is not None and key.revoked_at is not None
    private_key = decode_private_key(key_file.read_text())
    fixture = PlatformFixture("lijiayuan", private_key, key_id, EventSigner(private_key))
    late = fixture.signed(fixture.event(), now_s() + 2)
    early = fixture.signed(fixture.event(), now_s() - 60)
    outcomes = wired.ingestor.ingest([Delivery(late.body, late.headers, "http"),
                                      Delivery(early.body, early.headers, "http")])
    assert [outcome.reason for outcome in outcomes] == [Reason.KEY_REVOKED, None]
    assert outcomes[1].status is Status.RECORDED
    refused(invoke(url, "keys", "revoke", key_id), "already retired", "--compromised")
    refused(invoke(url, "keys", "revoke", "key_0000000000000000"), "key_0000000000000000")


def test_keys_revoke_compromised_says_so_and_is_audited_as_such(url: str) -> None:
    add_platform(url)
    key_id, _ = ok(invoke(url, "keys", "generate", "lijiayuan", "--out", "lijiayuan.key"))
    ok(invoke(url, "keys", "revoke", key_id))
    (line,) = ok(invoke(url, "keys", "revoke", key_id, "--compromised"))
    assert line.startswith(f"key {key_id} declared compromised at ")
    assert "nothing it signs is accepted" in line
    refused(invoke(url, "keys", "revoke", key_id, "--compromised"), "already declared compromised")
    actions = [(event.action, event.subject) for event in audit_events(url)]
    assert actions[-3:] == [("key.generated", f"key:{key_id}"), ("key.retired", f"key:{key_id}"),
                            ("key.compromised", f"key:{key_id}")]


def test_branches_add_registers_a_branch(url: str, wired: Ledger) -> None:
    assert ok(invoke(url, "branches", "add", "GL01", "--name", "瓜沥支行")) == [
        "branch GL01 registered"]
    with wired.sessions() as session:
        branch = session.get(Branch, "GL01")
        assert branch is not None and branch.name == "瓜沥支行"
    refused(invoke(url, "branches", "add", "GL01", "--name", "again"), "already registered")


def test_users_add_puts_tellers_and_supervisors_in_a_branch(url: str, wired: Ledger) -> None:
    ok(invoke(url, "branches", "add", "GL01", "--name", "瓜沥支行"))
    ok(invoke(url, "users", "add", "wang.teller", "--role", "teller", "--branch", "GL01"))
    ok(invoke(url, "users", "add", "li.super", "--role", "supervisor", "--branch", "GL01"))
    ok(invoke(url, "users", "add", "zhao.audit", "--role", "auditor"))
    with wired.sessions() as session:
        users = {user.username: (user.role, user.branch) for user in session.scalars(select(User))}
    assert users == {"wang.teller": ("teller", "GL01"), "li.super": ("supervisor", "GL01"),
                     "zhao.audit": ("auditor", None)}


def test_users_add_binds_a_platform_operator_to_a_platform(url: str, wired: Ledger) -> None:
    add_platform(url)
    refused(invoke(url, "users", "add", "li.ops", "--role", "platform_operator"), "--platform")
    refused(invoke(url, "users", "add", "li.ops", "--role", "auditor", "--platform",
                   "lijiayuan"), "not bound to a platform")
    ok(invoke(url, "users", "add", "li.ops", "--role", "platform_operator", "--platform",
              "lijiayuan"))
    with wired.sessions() as session:
        user = session.scalar(select(User).where(User.username == "li.ops"))
        assert user is not None and (user.role, user.platform) == ("platform_operator",
                                                                  "lijiayuan")


def test_users_add_refuses_a_teller_without_a_branch(url: str, wired: Ledger) -> None:
    refused(invoke(url, "users", "add", "wang.teller", "--role", "teller"), "--branch")
    with wired.sessions() as session:
        assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize(("arguments", "fragment"), [
    (("--role", "auditor", "--branch", "GL01"), "does not belong to a branch"),
    (("--role", "teller", "--branch", "NOPE"), "NOPE"),
    (("--role", "janitor"), "janitor"),
])
def test_users_add_refuses_bad_input(url: str, arguments: tuple[str, ...], fragment: str) -> None:
    ok(invoke(url, "branches", "add", "GL01", "--name", "瓜沥支行"))
    result = invoke(url, "users", "add", "someone", *arguments)
    assert result.exit_code == 2 and fragment in result.stderr
    assert "Traceback" not in result.output


def test_users_add_twice_is_refused(url: str) -> None:
    ok(invoke(url, "users", "add", "zhao.audit", "--role", "auditor"))
    refused(invoke(url, "users", "add", "zhao.audit", "--role", "admin"), "already exists")


def test_tokens_create_prints_a_token_once_and_stores_only_its_hash(
        url: str, wired: Ledger) -> None:
    ok(invoke(url, "users", "add", "zhao.audit", "--role", "auditor"))
    (token,) = ok(invoke(url, "tokens", "create", "zhao.audit", "--ttl-days", "2"))
    assert token.startswith("plt_") and len(token) > 40
    now = datetime.now(UTC)
    with wired.sessions() as session:
        (stored,) = session.scalars(select(ApiToken)).all()
        assert stored.secret_sha256 == hashlib.sha256(token.encode()).hexdigest()
        assert 1.9 < (stored.expires_at - now).total_seconds() / 86_400 <= 2
        principal = authenticate(session, token, now)
        assert principal is not None and principal.username == "zhao.audit"
    (another,) = ok(invoke(url, "tokens", "create", "zhao.audit"))
    assert another != token


def test_tokens_create_refuses_an_unknown_user_and_a_bad_ttl(url: str) -> None:
    refused(invoke(url, "tokens", "create", "nobody"), "nobody")
    ok(invoke(url, "users", "add", "zhao.audit", "--role", "auditor"))
    refused(invoke(url, "tokens", "create", "zhao.audit", "--ttl-days", "0"), "--ttl-days")


def test_residents_pseudonym_prints_the_keyed_hash(url: str) -> None:
    (line,) = ok(invoke(url, "residents", "pseudonym", VALID_ID_NUMBER.lower()))
    expected = hmac.new(TEST_PEPPER.encode(), VALID_ID_NUMBER.encode(), hashlib.sha256)
    assert line == expected.hexdigest()


@pytest.mark.parametrize("id_number", ["110105194912310021", "11010519491331002X",
                                       "1101051949123100", "11010519491231002Y"])
def test_residents_pseudonym_refuses_a_bad_number_without_repeating_it(
        url: str, id_number: str) -> None:
    line = refused(invoke(url, "residents", "pseudonym", id_number), "ID number")
    assert id_number not in line and id_number[:6] not in line


@pytest.mark.parametrize(("variable", "value"), [
    ("CLOCK_SKEW_S", "soon"), ("CLOCK_SKEW_S", "-1"), ("AMQP_URL", "http://broker"),
    ("RESIDENT_PEPPER", "short"),
])
def test_a_bad_setting_stops_a_command_naming_the_variable(
        url: str, variable: str, value: str) -> None:
    refused(invoke(url, "platforms", "add", "lijiayuan", "--name", "x", "--township", "y",
                   **{variable.lower(): value}), f"POINTSLEDGER_{variable}")


def test_the_amqp_mode_needs_a_pepper(url: str) -> None:
    refused(invoke(url, "residents", "pseudonym", VALID_ID_NUMBER, resident_pepper=None,
                   amqp_url="amqp://guest:guest@127.0.0.1:5672/"),
            "POINTSLEDGER_RESIDENT_PEPPER")
    assert not Path("var").exists()


def test_a_bad_database_url_stops_a_command_naming_the_variable(url: str) -> None:
    refused(invoke("mysql://somewhere/db", "verify"), "POINTSLEDGER_DATABASE_URL")


# SPEC §12: people and their access, taken away as well as given.

GOOD_PASSWORD = "correct horse battery staple"


def audit_events(url: str) -> list[AuditEvent]:
    built = build(make_settings(url))
    try:
        with built.sessions() as session:
            return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    finally:
        built.close()


def invoke_with_input(url: str, stdin: str, *arguments: str) -> Result:
    from ledger.cli.main import cli

    return CliRunner().invoke(cli, list(arguments), input=stdin, catch_exceptions=False, env={
        "POINTSLEDGER_DATABASE_URL": url, "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
        "POINTSLEDGER_AMQP_URL": None})


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ok(result)]


@pytest.fixture
def people(url: str) -> str:
    """A branch, a teller with a token and an auditor; the teller's token is returned."""
    ok(invoke(url, "branches", "add", "GL01", "--name", "瓜沥支行"))
    ok(invoke(url, "users", "add", "wang.teller", "--role", "teller", "--branch", "GL01"))
    ok(invoke(url, "users", "add", "zhao.audit", "--role", "auditor"))
    (token,) = ok(invoke(url, "tokens", "create", "wang.teller"))
    return token


def test_users_list_prints_every_user_as_a_json_line(url: str, people: str) -> None:
    ok(invoke(url, "users", "disable", "zhao.audit"))
    users = json_lines(invoke(url, "users", "list"))
    assert [(user["username"], user["role"], user["branch"], user["platform"],
             user["disabled"], user["last_sign_in_at"]) for user in users] == [
        ("wang.teller", "teller", "GL01", None, False, None),
        ("zhao.audit", "auditor", None, None, True, None)]
    assert all(set(user) == {"username", "role", "branch", "platform", "disabled",
                             "created_at", "last_sign_in_at"} for user in users)


def test_users_disable_refuses_their_tokens_at_once_and_enable_restores_them(
        url: str, people: str, wired: Ledger) -> None:
    assert ok(invoke(url, "users", "disable", "wang.teller")) == [
        "user wang.teller disabled: their tokens are refused from now on"]
    with wired.sessions() as session:
        assert authenticate(session, people, datetime.now(UTC)) is None
    assert ok(invoke(url, "users", "disable", "wang.teller")) == [
        "user wang.teller was already disabled"]
    refused(invoke(url, "tokens", "create", "wang.teller"), "disabled")
    assert ok(invoke(url, "users", "enable", "wang.teller")) == ["user wang.teller enabled"]
    with wired.sessions() as session:
        assert authenticate(session, people, datetime.now(UTC)) is not None
    refused(invoke(url, "users", "disable", "nobody"), "nobody")
    assert [event.action for event in audit_events(url)][-2:] == ["user.disabled",
                                                                  "user.enabled"]


def test_users_set_role_changes_the_role_with_its_branch_or_platform(
        url: str, people: str, wired: Ledger) -> None:
    add_platform(url)
    assert ok(invoke(url, "users", "set-role", "wang.teller", "platform_operator",
                     "--platform", "lijiayuan")) == [
        "user wang.teller is now platform_operator of platform lijiayuan"]
    with wired.sessions() as session:
        principal = authenticate(session, people, datetime.now(UTC))
        assert principal is not None
        assert (principal.role, principal.branch, principal.platform) == (
            "platform_operator", None, "lijiayuan")
    refused(invoke(url, "users", "set-role", "wang.teller", "supervisor"), "--branch")
    refused(invoke(url, "users", "set-role", "wang.teller", "supervisor", "--branch", "NOPE"),
            "NOPE")
    last = audit_events(url)[-1]
    assert (last.action, last.details) == ("user.role_changed", {
        "before": {"role": "teller", "branch": "GL01", "platform": None},
        "after": {"role": "platform_operator", "branch": None, "platform": "lijiayuan"}})


def test_users_set_password_reads_the_first_line_of_standard_input(
        url: str, people: str, wired: Ledger) -> None:
    result = invoke_with_input(url, GOOD_PASSWORD + "\nignored\n", "users", "set-password",
                               "zhao.audit")
    assert ok(result) == ["console password of zhao.audit set"]
    assert GOOD_PASSWORD not in result.output
    with wired.sessions() as session:
        assert verify_password(session, "zhao.audit", GOOD_PASSWORD)
        assert not verify_password(session, "zhao.audit", "ignored")
    last = audit_events(url)[-1]
    assert (last.action, last.subject, last.details) == ("user.password_set", "user:zhao.audit",
                                                         None)


@pytest.mark.parametrize(("stdin", "fragment"), [
    ("too-short\n", "at least 12 characters"),
    ("zhao.audit-is-me\n", "must not contain the username"),
    ("1qaz2wsx3edc\n", "most common"),
    ("", "no password on standard input"),
])
def test_users_set_password_refuses_a_weak_password_without_repeating_it(
        url: str, people: str, stdin: str, fragment: str) -> None:
    line = refused(invoke_with_input(url, stdin, "users", "set-password", "zhao.audit"),
                   fragment)
    assert not stdin.strip() or stdin.strip() not in line
    assert [event.action for event in audit_events(url)][-1] == "token.created"


def test_tokens_list_never_shows_a_secret_and_tokens_revoke_refuses_it(
        url: str, people: str, wired: Ledger) -> None:
    (other,) = ok(invoke(url, "tokens", "create", "zhao.audit"))
    listed = invoke(url, "tokens", "list")
    tokens = json_lines(listed)
    assert [(token["id"], token["username"], token["revoked_at"]) for token in tokens] == [
        (1, "wang.teller", None), (2, "zhao.audit", None)]
    assert people not in listed.output and other not in listed.output
    assert [token["id"] for token in json_lines(invoke(url, "tokens", "list", "zhao.audit"))] \
        == [2]

    (line,) = ok(invoke(url, "tokens", "revoke", "1"))

    assert line.startswith("token 1 of wang.teller revoked at ")
    with wired.sessions() as session:
        assert authenticate(session, people, datetime.now(UTC)) is None
        assert authenticate(session, other, datetime.now(UTC)) is not None
    assert json_lines(invoke(url, "tokens", "list", "wang.teller"))[0]["revoked_at"]
    refused(invoke(url, "tokens", "revoke", "1"), "already revoked")
    refused(invoke(url, "tokens", "revoke", "99"), "no token 99")
    refused(invoke(url, "tokens", "list", "nobody"), "nobody")
    assert invoke(url, "tokens", "revoke", "9" * 30).exit_code == 2


def test_every_cli_change_is_audited_as_the_os_account_and_the_trail_verifies(
        url: str, people: str) -> None:
    add_platform(url)
    ok(invoke(url, "keys", "add", "lijiayuan", "--public-key",
              encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))))
    ok(invoke(url, "users", "disable", "zhao.audit"))

    events = audit_events(url)

    assert [event.action for event in events] == [
        "branch.added", "user.added", "user.added", "token.created", "platform.added",
        "key.added", "user.disabled"]
    assert {event.actor for event in events} == {f"cli:{pwd.getpwuid(os.getuid()).pw_name}"}
    assert people not in json.dumps([event.details for event in events])
    lines = ok(invoke(url, "verify"))
    assert lines[-1] == "audit trail intact: 7 events"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_users_set_password_on_a_terminal_asks_twice_without_echo(
        url: str, people: str, wired: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    import ledger.cli.admin as admin_commands

    monkeypatch.setattr(admin_commands, "sys", SimpleNamespace(stdin=_Terminal()))
    typed = f"{GOOD_PASSWORD}\nnot the same\n{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n"

    result = invoke_with_input(url, typed, "users", "set-password", "zhao.audit")

    assert result.exit_code == 0, result.output
    assert result.stdout == "console password of zhao.audit set\n"
    assert GOOD_PASSWORD not in result.output
    assert result.stderr.count("Repeat it") == 2  # the mismatch was asked again
    with wired.sessions() as session:
        assert verify_password(session, "zhao.audit", GOOD_PASSWORD)
