"""Signing in to the console with a password, and locking a username out (SPEC §13).

After LOCK_OUT_FAILURES failed sign-ins for one username within LOCK_OUT_WINDOW, that username
cannot sign in for LOCK_OUT_DURATION, whatever the password. The answer is the same for a
username that does not exist, so the page tells an attacker nothing about who has an account.
Every sign-in, failure and lock-out is in the audit trail, which is also where the failures are
counted: one record of what happened, nothing to fall out of step with it.

What a person typed as a username is not trusted: it is masked (it may be an ID number typed in
the wrong field) and cut to fit before it names the subject of an audit event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.contract.personal_data import mask_id_numbers
from ledger.infra.db.models import AuditEvent, User
from ledger.service.access import Principal, verify_password
from ledger.service.audit_trail import append_audit, lock_audit_trail

LOCK_OUT_FAILURES = 5
LOCK_OUT_WINDOW = timedelta(minutes=15)
LOCK_OUT_DURATION = timedelta(minutes=15)
USERNAME_TYPED_LENGTH_MAX = 64
SUBJECT_PREFIX = "user:"
# Who acts in a failed or refused sign-in: somebody at a console, not yet anybody we know.
ANONYMOUS_ACTOR = "console:anonymous"

SIGNED_IN = "console.signed_in"
SIGN_IN_FAILED = "console.sign_in_failed"
LOCKED_OUT = "console.locked_out"
SIGN_IN_REFUSED_LOCKED = "console.sign_in_refused_locked"
SIGNED_OUT = "console.signed_out"


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"  # wrong username or password: the page does not say which
    LOCKED = "locked"  # temporarily, whatever the password


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    principal: Principal | None = None


def sign_in(session: Session, username: str, password: str, now: datetime,
            origin: str | None = None) -> SignIn:
    """Check a console password, in the caller's transaction (commit it whatever the outcome:
    failures and lock-outs are recorded)."""
    # One sign-in at a time per ledger, decided on the audit trail it reads and writes.
    lock_audit_trail(session)
    subject = subject_of(username)
    details = {"from": origin} if origin else None
    if _locked_until(session, subject, now) is not None:
        append_audit(session, now, ANONYMOUS_ACTOR, SIGN_IN_REFUSED_LOCKED, subject,
                     "sign-in refused: the username is locked out", details=details)
        return SignIn(SignInOutcome.LOCKED)
    if not verify_password(session, username, password):
        append_audit(session, now, ANONYMOUS_ACTOR, SIGN_IN_FAILED, subject, "sign-in failed",
                     details=details)
        if _failures_counting(session, subject, now) >= LOCK_OUT_FAILURES:
            append_audit(session, now, ANONYMOUS_ACTOR, LOCKED_OUT, subject,
                         f"locked out for {LOCK_OUT_DURATION.seconds // 60} minutes after "
                         f"{LOCK_OUT_FAILURES} failed sign-ins", details=details)
            return SignIn(SignInOutcome.LOCKED)
        return SignIn(SignInOutcome.REFUSED)
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None  # verify_password is true only for an enabled, existing user
    user.last_sign_in_at = now
    append_audit(session, now, user.username, SIGNED_IN, subject, "signed in to the console",
                 details=details)
    return SignIn(SignInOutcome.SIGNED_IN,
                  Principal(user.id, user.username, user.role, user.branch, user.platform))


def record_sign_out(session: Session, username: str, now: datetime) -> None:
    append_audit(session, now, username, SIGNED_OUT, subject_of(username),
                 "signed out of the console")


def subject_of(username: str) -> str:
    """The audit subject for what was typed as a username: masked, and never longer than a
    username (a longer one is shortened with a digest, so two long ones stay apart)."""
    typed = mask_id_numbers(username.strip())
    if len(typed) > USERNAME_TYPED_LENGTH_MAX:
        digest = hashlib.sha256(typed.encode("utf-8")).hexdigest()[:16]
        typed = f"{typed[:USERNAME_TYPED_LENGTH_MAX - 17]}~{digest}"
    return SUBJECT_PREFIX + typed


def _recent(session: Session, subject: str, since: datetime) -> list[tuple[str, datetime]]:
    return [(row.action, row.at) for row in session.execute(
        select(AuditEvent.action, AuditEvent.at)
        .where(AuditEvent.subject == subject,
               AuditEvent.action.in_((SIGNED_IN, SIGN_IN_FAILED, LOCKED_OUT)),
               AuditEvent.at > since)
        .order_by(AuditEvent.seq))]


def _locked_until(session: Session, subject: str, now: datetime) -> datetime | None:
    lock_outs = [at for action, at in _recent(session, subject, now - LOCK_OUT_DURATION)
                 if action == LOCKED_OUT]
    return lock_outs[-1] + LOCK_OUT_DURATION if lock_outs else None


def _failures_counting(session: Session, subject: str, now: datetime) -> int:
    """Failures within the window, since the last success or lock-out (either starts afresh)."""
    failures = 0
    for action, _at in _recent(session, subject, now - LOCK_OUT_WINDOW):
        failures = failures + 1 if action == SIGN_IN_FAILED else 0
    return failures
