"""Console sessions kept on the server (SPEC §13).

The browser holds a random secret; the database holds its SHA-256, the user, what the pages keep
between requests, and when the session began, was last used and ended. A session is valid only
while its user is enabled and still has the role, branch and platform it began with: disabling
a user or changing their role ends every session of theirs at their next request, with no list
of sessions to hunt down, and sign-out ends it on the server, not just in the browser.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.infra.db.models import ConsoleSession, User
from ledger.service.access import Principal

SECRET_BYTES = 32
# Writing last_seen_at on every page would make every read a write; idle expiry is counted in
# minutes, so a session's use is written at most this often.
SEEN_RECORD_INTERVAL = timedelta(seconds=30)


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    TOO_OLD = "too_old"
    USER_DISABLED = "user_disabled"
    USER_CHANGED = "user_changed"
    REPLACED = "replaced"  # its browser signed in again


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    maximum: timedelta


@dataclass(frozen=True)
class Loaded:
    """A valid session: whose it is, and what the pages kept in it."""

    principal: Principal
    data: dict[str, Any]


def begin(session: Session, principal: Principal, data: dict[str, Any],
          now: datetime) -> str:
    """A new session for a user who just signed in; the secret for the browser's cookie."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    session.add(ConsoleSession(
        id=_digest(secret), user_id=principal.user_id, role=principal.role,
        branch=principal.branch, platform=principal.platform, created_at=now,
        last_seen_at=now, ended_at=None, end_reason=None, data=data))
    return secret


def load(session: Session, secret: str, now: datetime, lifetime: Lifetime) -> Loaded | None:
    """The session of this secret if it is still valid, else None (and, if it existed, it is
    ended now, with the reason)."""
    row = session.execute(
        select(ConsoleSession, User).join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.id == _digest(secret))).first()
    if row is None:
        return None
    stored, user = row
    if stored.ended_at is not None:
        return None
    reason = _why_over(stored, user, now, lifetime)
    if reason is not None:
        _end(session, stored.id, now, reason)
        return None
    if stored.last_seen_at <= now - SEEN_RECORD_INTERVAL:
        stored.last_seen_at = now
    return Loaded(Principal(user.id, user.username, user.role, user.branch, user.platform),
                  dict(stored.data))


def keep(session: Session, secret: str, data: dict[str, Any]) -> None:
    """Store what the pages keep in a session."""
    session.execute(update(ConsoleSession).where(ConsoleSession.id == _digest(secret))
                    .values(data=data))


def end(session: Session, secret: str, now: datetime,
        reason: EndReason = EndReason.SIGNED_OUT) -> None:
    _end(session, _digest(secret), now, reason)


def _end(session: Session, session_id: str, now: datetime, reason: EndReason) -> None:
    session.execute(update(ConsoleSession)
                    .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason.value))


def _why_over(stored: ConsoleSession, user: User, now: datetime,
              lifetime: Lifetime) -> EndReason | None:
    if user.disabled_at is not None:
        return EndReason.USER_DISABLED
    if (user.role, user.branch, user.platform) != (stored.role, stored.branch, stored.platform):
        return EndReason.USER_CHANGED
    if now - stored.created_at >= lifetime.maximum:
        return EndReason.TOO_OLD
    if now - stored.last_seen_at >= lifetime.idle:
        return EndReason.IDLE
    return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
