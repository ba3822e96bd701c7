"""What an administrator changes, each change in the audit trail in the same transaction (§12).

The command line and the admin routes call these, never the state-changing functions of
`access` and `registry` directly; fixtures and benchmarks that build a scratch database may.
Each use case takes the audit trail's lock before it reads anything, so that two administrators
acting at once are decided one after the other (two admins disabling each other cannot leave
the bank without one). An event names the actor, the subject and what changed; never a secret,
a password or its hash, a token or its hash, or a private key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from ledger.domain.entry import rfc3339_utc
from ledger.infra.db.models import ApiToken, Branch, Platform, PlatformKey, User
from ledger.service import access, registry
from ledger.service.audit_trail import append_audit, lock_audit_trail
from ledger.service.registry import RegisteredPublicKey

ACTOR_LENGTH_MAX = 64  # the audit trail's actor column


def add_platform(session: Session, actor: str, code: str, name: str, township: str,
                 now: datetime) -> Platform:
    lock_audit_trail(session)
    platform = registry.add_platform(session, code, name, township, now)
    _audit(session, now, actor, "platform.added", f"platform:{code}",
           f"platform {code} registered", {"name": platform.name, "township": platform.township})
    return platform


def add_key(session: Session, actor: str, platform: str, public_key: str,
            now: datetime) -> RegisteredPublicKey:
    lock_audit_trail(session)
    registered = registry.add_key(session, platform, public_key, now)
    _audit_key(session, now, actor, "key.added", registered)
    return registered


def generate_key(session: Session, actor: str, platform: str,
                 now: datetime) -> tuple[Ed25519PrivateKey, RegisteredPublicKey]:
    """A new key pair for the platform; only the public half is recorded anywhere."""
    lock_audit_trail(session)
    private_key, registered = registry.generate_key(session, platform, now)
    _audit_key(session, now, actor, "key.generated", registered)
    return private_key, registered


def revoke_key(session: Session, actor: str, key_id: str, now: datetime, *,
               compromised: bool) -> PlatformKey:
    """Retire a key (rotation) or declare it compromised; the trail says which."""
    lock_audit_trail(session)
    key = registry.revoke_key(session, key_id, now, compromised=compromised)
    kind = "compromised" if compromised else "retired"
    _audit(session, now, actor, f"key.{kind}", f"key:{key_id}",
           f"key {key_id} of {key.platform} {kind}",
           {"platform": key.platform, "revoked_at": _time(key.revoked_at),
            "compromised_at": _time(key.compromised_at)})
    return key


def add_branch(session: Session, actor: str, code: str, name: str, now: datetime) -> Branch:
    lock_audit_trail(session)
    branch = access.add_branch(session, code, name, now)
    _audit(session, now, actor, "branch.added", f"branch:{code}", f"branch {code} registered",
           {"name": branch.name})
    return branch


def add_user(session: Session, actor: str, username: str, role: str, branch: str | None,
             platform: str | None, now: datetime) -> User:
    lock_audit_trail(session)
    user = access.add_user(session, username, role, branch, now, platform=platform)
    assignment = access.Assignment(role, branch, platform)
    _audit(session, now, actor, "user.added", _user(username),
           f"user {username} added as {role}", assignment.document())
    return user


def set_disabled(session: Session, actor: str, username: str, disabled: bool,
                 now: datetime) -> bool:
    """Disable (every token refused from the next request on) or enable a user; whether
    anything changed (nothing is recorded when nothing changed)."""
    lock_audit_trail(session)
    if access.set_disabled(session, username, disabled, now) is None:
        return False
    action = "disabled" if disabled else "enabled"
    _audit(session, now, actor, f"user.{action}", _user(username), f"user {username} {action}",
           None)
    return True


def set_role(session: Session, actor: str, username: str, role: str, branch: str | None,
             platform: str | None, now: datetime) -> bool:
    """Change a user's role, branch or platform; whether anything changed."""
    lock_audit_trail(session)
    changed = access.set_role(session, username, role, branch, platform)
    if changed is None:
        return False
    before, after = changed
    _audit(session, now, actor, "user.role_changed", _user(username),
           f"user {username} is now {role}",
           {"before": before.document(), "after": after.document()})
    return True


def set_password(session: Session, actor: str, username: str, password: str,
                 now: datetime) -> None:
    """Set a console password; the trail records that it changed, nothing of it."""
    lock_audit_trail(session)
    access.set_password(session, username, password)
    _audit(session, now, actor, "user.password_set", _user(username),
           f"console password of {username} set", None)


def create_token(session: Session, actor: str, username: str, ttl_days: int,
                 now: datetime) -> tuple[str, ApiToken]:
    """A new API token for the user: the secret (to show once) and its record."""
    lock_audit_trail(session)
    secret, token = access.create_token(session, username, now, ttl_days)
    _audit(session, now, actor, "token.created", f"token:{token.id}",
           f"token {token.id} created for {username}",
           {"username": username, "expires_at": rfc3339_utc(token.expires_at)})
    return secret, token


def revoke_token(session: Session, actor: str, token_id: int,
                 now: datetime) -> tuple[ApiToken, str]:
    lock_audit_trail(session)
    token, username = access.revoke_token(session, token_id, now)
    _audit(session, now, actor, "token.revoked", f"token:{token_id}",
           f"token {token_id} of {username} revoked", {"username": username})
    return token, username


def _audit_key(session: Session, now: datetime, actor: str, action: str,
               registered: RegisteredPublicKey) -> None:
    # The public key is no secret: recording it lets an auditor match signatures to the event.
    _audit(session, now, actor, action, f"key:{registered.key_id}",
           f"key {registered.key_id} registered for {registered.platform}",
           {"platform": registered.platform, "public_key": registered.public_key})


def _audit(session: Session, now: datetime, actor: str, action: str, subject: str,
           comment: str, details: dict[str, Any] | None) -> None:
    if not actor or len(actor) > ACTOR_LENGTH_MAX:
        raise ValueError(f"an actor is 1-{ACTOR_LENGTH_MAX} characters, not {actor!r}")
    append_audit(session, now, actor, action, subject, comment, details=details)


def _user(username: str) -> str:
    return f"user:{username}"


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339_utc(moment)
