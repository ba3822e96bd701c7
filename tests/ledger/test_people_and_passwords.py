"""People and their access in the service layer (SPEC §12): console passwords, tokens' last
use, and what the audit trail keeps of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ledger.bootstrap import Ledger
from ledger.infra.db.models import ApiToken, AuditEvent, User
from ledger.service import access, administration
from ledger.service.audit_trail import verify_audit_trail
from ledger.service.errors import InvalidInput, NotFound
from ledger.service.passwords import password_problem

MOMENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GOOD_PASSWORD = "correct horse battery staple"
ACTOR = "cli:tester"


@pytest.fixture
def user(ledger: Ledger) -> str:
    with ledger.sessions.begin() as session:
        administration.add_user(session, ACTOR, "wang.teller", "auditor", None, None, MOMENT)
    return "wang.teller"


@pytest.mark.parametrize(("password", "fragment", "rule"), [
    ("short-pass1", "at least 12 characters", "too_short"),
    ("my-Wang.Teller-2026", "must not contain the username", "contains_username"),
    ("qwerty123456", "most common", "common"),
    ("LeaveMeAlone", "most common", "common"),
    ("x" * 1025, "at most 1024", "too_long"),
])
def test_the_password_policy_refuses(ledger: Ledger, user: str, password: str,
                                     fragment: str, rule: str) -> None:
    with ledger.sessions.begin() as session, pytest.raises(InvalidInput) as refused:
        administration.set_password(session, ACTOR, user, password, MOMENT)
    assert fragment in str(refused.value)
    assert password not in str(refused.value)
    # The rule broken, for the console to say it in the admin's language beside the field.
    assert refused.value.errors == {"password": str(refused.value)}
    assert refused.value.figures == {"rule": rule, "length_min": 12, "length_max": 1024}
    with ledger.sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == user))
        assert stored is None
        assert session.scalars(select(AuditEvent.action)).all() == ["user.added"]


def test_the_policy_takes_a_long_uncommon_passphrase() -> None:
    assert password_problem("wang.teller", GOOD_PASSWORD) is None
    assert password_problem("wang.teller", "一二三四五，上山打老虎。") is None


def test_a_password_is_kept_as_an_argon2id_hash_and_verified(ledger: Ledger, user: str) -> None:
    with ledger.sessions.begin() as session:
        administration.set_password(session, ACTOR, user, GOOD_PASSWORD, MOMENT)

    with ledger.sessions.begin() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == user))
        assert stored is not None and stored.startswith("$argon2id$")
        assert GOOD_PASSWORD not in stored
        assert access.verify_password(session, user, GOOD_PASSWORD)
        assert not access.verify_password(session, user, GOOD_PASSWORD.upper())
        assert not access.verify_password(session, "nobody", GOOD_PASSWORD)
        trail = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert trail[-1].action == "user.password_set" and trail[-1].subject == f"user:{user}"
    assert "argon2" not in json.dumps(trail[-1].details) + trail[-1].comment


def test_a_disabled_user_or_one_without_a_password_never_signs_in(ledger: Ledger,
                                                                  user: str) -> None:
    with ledger.sessions.begin() as session:
        assert not access.verify_password(session, user, "")
        administration.set_password(session, ACTOR, user, GOOD_PASSWORD, MOMENT)
        administration.set_disabled(session, ACTOR, user, True, MOMENT)
        assert not access.verify_password(session, user, GOOD_PASSWORD)


def test_a_password_for_an_unknown_user_is_refused(ledger: Ledger) -> None:
    with ledger.sessions.begin() as session, pytest.raises(NotFound):
        administration.set_password(session, ACTOR, "nobody", GOOD_PASSWORD, MOMENT)


def test_a_tokens_use_is_written_at_most_once_a_minute(ledger: Ledger, user: str) -> None:
    with ledger.sessions.begin() as session:
        secret, _ = administration.create_token(session, ACTOR, user, 30, MOMENT)

    def use(moment: datetime) -> datetime | None:
        with ledger.sessions.begin() as session:
            assert access.authenticate(session, secret, moment) is not None
        with ledger.sessions() as session:
            return session.scalar(select(ApiToken.last_used_at))

    assert use(MOMENT) == MOMENT
    assert use(MOMENT + timedelta(seconds=59)) == MOMENT
    assert use(MOMENT + timedelta(seconds=61)) == MOMENT + timedelta(seconds=61)


def test_a_token_is_refused_once_revoked_or_its_user_disabled(ledger: Ledger,
                                                              user: str) -> None:
    with ledger.sessions.begin() as session:
        first, record = administration.create_token(session, ACTOR, user, 30, MOMENT)
        second, _ = administration.create_token(session, ACTOR, user, 30, MOMENT)
    later = MOMENT + timedelta(minutes=5)
    with ledger.sessions.begin() as session:
        administration.revoke_token(session, ACTOR, record.id, later)
        assert access.authenticate(session, first, later) is None
        assert access.authenticate(session, second, later) is not None
        administration.set_disabled(session, ACTOR, user, True, later)
        assert access.authenticate(session, second, later) is None
        administration.set_disabled(session, ACTOR, user, False, later)
        assert access.authenticate(session, second, later) is not None
    with ledger.sessions() as session:
        assert verify_audit_trail(session).intact


@pytest.mark.parametrize(("change", "field"), [
    (lambda s: administration.add_branch(s, ACTOR, "no spaces", "瓜沥", MOMENT), "code"),
    (lambda s: administration.add_branch(s, ACTOR, "GL02", " ", MOMENT), "name"),
    (lambda s: administration.add_user(s, ACTOR, "Big Name", "auditor", None, None, MOMENT),
     "username"),
    (lambda s: administration.add_user(s, ACTOR, "li.teller", "janitor", None, None, MOMENT),
     "role"),
    (lambda s: administration.add_user(s, ACTOR, "li.teller", "teller", None, None, MOMENT),
     "branch"),
    (lambda s: administration.add_user(s, ACTOR, "li.teller", "teller", "NOPE", None, MOMENT),
     "branch"),
    (lambda s: administration.add_user(s, ACTOR, "li.op", "platform_operator", None, None,
                                       MOMENT), "platform"),
    (lambda s: administration.add_user(s, ACTOR, "li.op", "auditor", None, "nowhere", MOMENT),
     "platform"),
    (lambda s: administration.add_platform(s, ACTOR, "Bad-Code", "沥家园", "瓜沥镇", MOMENT),
     "code"),
    (lambda s: administration.add_platform(s, ACTOR, "lijiayuan", "沥家园", "", MOMENT),
     "township"),
    (lambda s: administration.add_platform(s, ACTOR, "lijiayuan", "", "瓜沥镇", MOMENT), "name"),
])
def test_a_refused_change_names_the_field_it_refuses(ledger: Ledger, change: Any,
                                                     field: str) -> None:
    """A form (the console's) shows each refusal beside its field."""
    with ledger.sessions.begin() as session, pytest.raises((InvalidInput, NotFound)) as refused:
        change(session)
    assert refused.value.errors is not None and list(refused.value.errors) == [field]


def test_a_malformed_public_key_is_refused_on_its_field(ledger: Ledger) -> None:
    with ledger.sessions.begin() as session:
        administration.add_platform(session, ACTOR, "lijiayuan", "沥家园", "瓜沥镇", MOMENT)
    with ledger.sessions.begin() as session, pytest.raises(InvalidInput) as refused:
        administration.add_key(session, ACTOR, "lijiayuan", "whsk_not-a-public-key", MOMENT)
    assert refused.value.errors is not None and list(refused.value.errors) == ["public_key"]
