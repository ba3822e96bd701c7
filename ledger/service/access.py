"""Branches, users, roles and API tokens (SPEC §3, §7).

A token is `plt_<random>`; only the SHA-256 of it is stored. A slow password hash (scrypt) would
add tens of milliseconds to every request and buys nothing for a 256-bit random secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.infra.db.models import ROLES, ApiToken, Branch, User
from ledger.service.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "plt_"  # noqa: S105 - a prefix, not a secret
TOKEN_TTL_DAYS_DEFAULT = 90
TOKEN_TTL_DAYS_MAX = 3650
BRANCH_ROLES = ("teller", "supervisor")
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
BRANCH_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def add_branch(session: Session, code: str, name: str, now: datetime) -> Branch:
    if not BRANCH_CODE_PATTERN.fullmatch(code):
        raise InvalidInput(f"branch code {code!r} must be 1-32 of [A-Za-z0-9_-]")
    if not name.strip() or len(name) > 200:
        raise InvalidInput("the branch name must be 1-200 characters")
    if session.get(Branch, code) is not None:
        raise Conflict(f"branch {code!r} is already registered")
    branch = Branch(code=code, name=name.strip(), created_at=now)
    session.add(branch)
    return branch


def add_user(session: Session, username: str, role: str, branch: str | None,
             now: datetime) -> User:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(f"username {username!r} must be 2-64 of [a-z0-9._-]")
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role in BRANCH_ROLES and branch is None:
        raise InvalidInput(f"a {role} belongs to a branch: give --branch")
    if role not in BRANCH_ROLES and branch is not None:
        raise InvalidInput(f"a {role} does not belong to a branch")
    if branch is not None and session.get(Branch, branch) is None:
        raise NotFound(f"branch {branch!r} is not registered")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role, branch=branch, created_at=now)
    session.add(user)
    return user


def create_token(session: Session, username: str, now: datetime,
                 ttl_days: int = TOKEN_TTL_DAYS_DEFAULT) -> tuple[str, ApiToken]:
    """The token in clear (shown once) and its stored record."""
    if not 1 <= ttl_days <= TOKEN_TTL_DAYS_MAX:
        raise InvalidInput(f"--ttl-days must be between 1 and {TOKEN_TTL_DAYS_MAX}")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, secret_sha256=_digest(token), created_at=now,
                      expires_at=now + timedelta(days=ttl_days))
    session.add(record)
    return token, record


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user behind a valid token."""

    user_id: int
    username: str
    role: str
    branch: str | None


def authenticate(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal for a valid, unexpired token, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(User.id, User.username, User.role, User.branch, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.secret_sha256 == _digest(token))
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return Principal(row.id, row.username, row.role, row.branch)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
