"""Branches, users, roles and API tokens (SPEC §3, §7, §12): what each change does to the state.

These functions change state and answer queries; `ledger.service.administration` is what people's
commands call, and it puts each change in the audit trail in the same transaction.

A token is `plt_<random>`; only the SHA-256 of it is stored. A slow password hash (scrypt) would
add tens of milliseconds to every request and buys nothing for a 256-bit random secret. Console
passwords, chosen by people, are another matter: see `ledger.service.passwords`.

Users are never deleted: their names stand in the audit trail, the ledger and receipts. Disabling
one refuses their tokens from the very next request (and, once the console exists, ends its
sessions, as changing their role will).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, func, literal, or_, select, update
from sqlalchemy.orm import Session

from ledger.domain.entry import rfc3339_utc
from ledger.domain.roles import BRANCH_ROLES, PLATFORM_ROLES, ROLES
from ledger.infra.db.models import ApiToken, Branch, Platform, User
from ledger.service import passwords
from ledger.service.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "plt_"  # noqa: S105 - a prefix, not a secret
TOKEN_TTL_DAYS_DEFAULT = 90
TOKEN_TTL_DAYS_MAX = 3650
# A token's last use is written at most this often, so that reads do not all become writes.
TOKEN_USE_RECORD_INTERVAL = timedelta(minutes=1)
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
BRANCH_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
BRANCH_NAME_LENGTH_MAX = 200


def add_branch(session: Session, code: str, name: str, now: datetime) -> Branch:
    if not BRANCH_CODE_PATTERN.fullmatch(code):
        raise InvalidInput(f"branch code {code!r} must be 1-32 of [A-Za-z0-9_-]",
                           errors={"code": "must be 1-32 of [A-Za-z0-9_-]"})
    if not name.strip() or len(name) > BRANCH_NAME_LENGTH_MAX:
        raise InvalidInput(f"the branch name must be 1-{BRANCH_NAME_LENGTH_MAX} characters",
                           errors={"name": f"must be 1-{BRANCH_NAME_LENGTH_MAX} characters"})
    if session.get(Branch, code) is not None:
        raise Conflict(f"branch {code!r} is already registered")
    branch = Branch(code=code, name=name.strip(), created_at=now)
    session.add(branch)
    return branch


def list_branches(session: Session) -> list[Branch]:
    return list(session.scalars(select(Branch).order_by(Branch.code)))


def add_user(session: Session, username: str, role: str, branch: str | None,
             now: datetime, *, platform: str | None = None) -> User:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(f"username {username!r} must be 2-64 of [a-z0-9._-]",
                           errors={"username": "must be 2-64 of [a-z0-9._-]"})
    check_assignment(session, role, branch, platform)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role, branch=branch, platform=platform, created_at=now)
    session.add(user)
    session.flush()
    return user


def check_assignment(session: Session, role: str, branch: str | None,
                     platform: str | None) -> None:
    """Tellers and supervisors belong to a branch, a platform operator to a platform, and
    nobody else to either. Each refusal names its field, for a form to show it there."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}",
                           errors={"role": f"must be one of {', '.join(ROLES)}"})
    if role in BRANCH_ROLES and branch is None:
        raise InvalidInput(f"a {role} belongs to a branch: give --branch",
                           errors={"branch": f"a {role} belongs to a branch"})
    if role not in BRANCH_ROLES and branch is not None:
        raise InvalidInput(f"a {role} does not belong to a branch",
                           errors={"branch": f"a {role} does not belong to a branch"})
    if role in PLATFORM_ROLES and platform is None:
        raise InvalidInput(f"a {role} is bound to one platform: give --platform",
                           errors={"platform": f"a {role} is bound to one platform"})
    if role not in PLATFORM_ROLES and platform is not None:
        raise InvalidInput(f"a {role} is not bound to a platform",
                           errors={"platform": f"a {role} is not bound to a platform"})
    if branch is not None and session.get(Branch, branch) is None:
        raise NotFound(f"branch {branch!r} is not registered",
                       errors={"branch": "is not registered"})
    if platform is not None and session.get(Platform, platform) is None:
        raise NotFound(f"platform {platform!r} is not registered",
                       errors={"platform": "is not registered"})


def user_of(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist", code="unknown_user")
    return user


def user_document(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "branch": user.branch,
            "platform": user.platform, "disabled": user.disabled_at is not None,
            "created_at": rfc3339_utc(user.created_at),
            "last_sign_in_at": _time(user.last_sign_in_at)}


def list_users(session: Session, after: int = 0,
               limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
    """A page of users in the order they were created, and the next page's cursor."""
    rows = session.scalars(select(User).where(User.id > _wide(after)).order_by(User.id)
                           .limit(limit + 1)).all()
    shown = rows[:limit]
    return [user_document(user) for user in shown], (shown[-1].id if len(rows) > limit else None)


def set_disabled(session: Session, username: str, disabled: bool, now: datetime) -> User | None:
    """Disable or enable a user; the user when that changed something, else None."""
    user = user_of(session, username)
    if (user.disabled_at is not None) == disabled:
        return None
    if disabled:
        _keep_an_admin(session, user, "disabled")
    user.disabled_at = now if disabled else None
    session.flush()
    return user


@dataclass(frozen=True)
class Assignment:
    role: str
    branch: str | None
    platform: str | None

    def document(self) -> dict[str, Any]:
        return {"role": self.role, "branch": self.branch, "platform": self.platform}


def set_role(session: Session, username: str, role: str, branch: str | None,
             platform: str | None) -> tuple[Assignment, Assignment] | None:
    """Give a user a role (with its branch or platform); what it was and what it is now, or
    None when nothing changed."""
    user = user_of(session, username)
    check_assignment(session, role, branch, platform)
    before = Assignment(user.role, user.branch, user.platform)
    after = Assignment(role, branch, platform)
    if before == after:
        return None
    if role != "admin":
        _keep_an_admin(session, user, "given another role")
    user.role, user.branch, user.platform = role, branch, platform
    session.flush()
    return before, after


def _keep_an_admin(session: Session, user: User, change: str) -> None:
    """Nobody could then manage users over HTTP: the last enabled admin stays one."""
    if user.role != "admin" or user.disabled_at is not None:
        return
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.disabled_at.is_(None), User.id != user.id)) or 0
    if others == 0:
        raise Conflict(f"{user.username} is the last enabled admin and cannot be {change}; "
                       "make another admin first", code="last_admin")


def set_password(session: Session, username: str, password: str) -> User:
    """Check the console password against the policy and store its hash (never the password)."""
    user = user_of(session, username)
    rule = passwords.broken_rule(username, password)
    if rule is not None:
        problem = passwords.rule_message(rule)
        # The rule broken goes with the figures, for a caller that says it in its own words.
        raise InvalidInput(problem, code="weak_password", errors={"password": problem},
                           figures={"rule": rule.value,
                                    "length_min": passwords.PASSWORD_LENGTH_MIN,
                                    "length_max": passwords.PASSWORD_LENGTH_MAX})
    user.password_hash = passwords.hash_password(password)
    session.flush()
    return user


def verify_password(session: Session, username: str, password: str) -> bool:
    """Whether `password` is the enabled user's console password (for the console's sign-in).

    An unknown user, a disabled one or one without a password takes as long as a wrong password,
    so that timing does not tell which usernames exist. A hash made with weaker parameters than
    today's is replaced in the caller's transaction.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None or user.disabled_at is not None:
        passwords.spend_a_verification(password)
        return False
    if not passwords.password_matches(user.password_hash, password):
        return False
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return True


def create_token(session: Session, username: str, now: datetime,
                 ttl_days: int = TOKEN_TTL_DAYS_DEFAULT) -> tuple[str, ApiToken]:
    """The token in clear (shown once) and its stored record."""
    if not 1 <= ttl_days <= TOKEN_TTL_DAYS_MAX:
        raise InvalidInput(f"--ttl-days must be between 1 and {TOKEN_TTL_DAYS_MAX}",
                           errors={"ttl_days": f"must be between 1 and {TOKEN_TTL_DAYS_MAX}"})
    user = user_of(session, username)
    if user.disabled_at is not None:
        raise Conflict(f"user {username!r} is disabled: enable them before giving a token",
                       code="user_disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, secret_sha256=_digest(token), created_at=now,
                      expires_at=now + timedelta(days=ttl_days))
    session.add(record)
    session.flush()
    return token, record


def token_document(token: ApiToken, username: str) -> dict[str, Any]:
    """What may be shown of a token: never its secret, nor the hash of it."""
    return {"id": token.id, "username": username, "created_at": rfc3339_utc(token.created_at),
            "expires_at": rfc3339_utc(token.expires_at),
            "last_used_at": _time(token.last_used_at), "revoked_at": _time(token.revoked_at)}


def list_tokens(session: Session, username: str | None = None, after: int = 0,
                limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
    """A page of tokens (of one user, or everyone's) in the order they were made."""
    statement = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                 .where(ApiToken.id > _wide(after)))
    if username is not None:
        statement = statement.where(ApiToken.user_id == user_of(session, username).id)
    rows = session.execute(statement.order_by(ApiToken.id).limit(limit + 1)).all()
    shown = rows[:limit]
    return ([token_document(token, name) for token, name in shown],
            shown[-1][0].id if len(rows) > limit else None)


def revoke_token(session: Session, token_id: int, now: datetime) -> tuple[ApiToken, str]:
    """Refuse the token from now on; the token and its user's name."""
    row = session.execute(select(ApiToken, User.username)
                          .join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.id == _wide(token_id))).first()
    if row is None:
        raise NotFound(f"no token {token_id} exists", code="unknown_token")
    token, username = row
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} was already revoked at "
                       f"{rfc3339_utc(token.revoked_at)}", code="already_revoked")
    token.revoked_at = now
    session.flush()
    return token, username


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user behind a valid token."""

    user_id: int
    username: str
    role: str
    branch: str | None
    platform: str | None = None


def authenticate(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal for a valid token, else None: unknown, expired, revoked, or its user
    disabled. Records when the token was last used, at most once a minute, in the caller's
    transaction."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(User.id, User.username, User.role, User.branch, User.platform, User.disabled_at,
               ApiToken.id.label("token_id"), ApiToken.expires_at, ApiToken.revoked_at,
               ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.secret_sha256 == _digest(token))
    ).first()
    if (row is None or row.expires_at <= now or row.revoked_at is not None
            or row.disabled_at is not None):
        return None
    if row.last_used_at is None or row.last_used_at <= now - TOKEN_USE_RECORD_INTERVAL:
        _record_use(session, row.token_id, now)
    return Principal(row.id, row.username, row.role, row.branch, row.platform)


def _record_use(session: Session, token_id: int, now: datetime) -> None:
    # Conditional, so that concurrent requests with one token write it once between them.
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None),
            ApiToken.last_used_at <= now - TOKEN_USE_RECORD_INTERVAL),
    ).values(last_used_at=now))


def platform_scope(principal: Principal) -> str | None:
    """The one platform whose data the principal may read, or None when not limited to one."""
    if principal.role in PLATFORM_ROLES:
        # check_assignment never lets a platform operator be without a platform.
        assert principal.platform is not None
        return principal.platform
    return None


def _wide(number: int) -> ColumnElement[int]:
    """A number compared with a 32-bit id column as a 64-bit one: a cursor or an id up to
    2^63 - 1 (all the API lets through) then finds nothing instead of overflowing the column's
    type on PostgreSQL."""
    return literal(number, BigInteger())


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339_utc(moment)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
