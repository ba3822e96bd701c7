"""Platforms and their signing keys (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.contract.envelope import PLATFORM_CODE_PATTERN
from ledger.contract.webhook import (
    KeyFormatError,
    decode_public_key,
    encode_public_key,
    key_id_for,
    public_key_bytes,
)
from ledger.infra.db.models import Platform, PlatformKey
from ledger.service.errors import Conflict, InvalidInput, NotFound

NAME_LENGTH_MAX = 200


def add_platform(session: Session, code: str, name: str, township: str,
                 now: datetime) -> Platform:
    if not PLATFORM_CODE_PATTERN.fullmatch(code):
        raise InvalidInput(f"platform code {code!r} must be 2-32 of [a-z0-9_], starting a-z",
                           errors={"code": "must be 2-32 of [a-z0-9_], starting a-z"})
    for label, value in (("name", name), ("township", township)):
        if not value.strip() or len(value) > NAME_LENGTH_MAX:
            raise InvalidInput(f"the platform {label} must be 1-{NAME_LENGTH_MAX} characters",
                               errors={label: f"must be 1-{NAME_LENGTH_MAX} characters"})
    if session.get(Platform, code) is not None:
        raise Conflict(f"platform {code!r} is already registered")
    platform = Platform(code=code, name=name.strip(), township=township.strip(), created_at=now,
                        last_seq=0)
    session.add(platform)
    return platform


@dataclass(frozen=True)
class RegisteredPublicKey:
    key_id: str
    platform: str
    public_key: str  # whpk_…


def add_key(session: Session, platform: str, public_key: str, now: datetime) -> RegisteredPublicKey:
    if session.get(Platform, platform) is None:
        raise NotFound(f"platform {platform!r} is not registered")
    try:
        raw = decode_public_key(public_key)
    except KeyFormatError as error:
        raise InvalidInput(f"the public key is not a whpk_ key: {error}",
                           errors={"public_key": f"is not a whpk_ key: {error}"}) from None
    key_id = key_id_for(raw)
    if session.get(PlatformKey, key_id) is not None:
        raise Conflict(f"this public key is already registered as {key_id}")
    session.add(PlatformKey(key_id=key_id, platform=platform, public_key=raw, created_at=now,
                            revoked_at=None, compromised_at=None))
    return RegisteredPublicKey(key_id, platform, encode_public_key(raw))


def generate_key(session: Session, platform: str,
                 now: datetime) -> tuple[Ed25519PrivateKey, RegisteredPublicKey]:
    private_key = Ed25519PrivateKey.generate()
    registered = add_key(session, platform, encode_public_key(public_key_bytes(private_key)), now)
    return private_key, registered


def revoke_key(session: Session, key_id: str, now: datetime, *,
               compromised: bool = False) -> PlatformKey:
    """Retire a key (rotation: its backlog, signed before now, still counts for a grace), or
    declare it compromised (nothing received from now on counts, whatever its timestamp says).

    A retired key can later be declared compromised; nothing else changes a revocation.
    """
    key = session.get(PlatformKey, key_id)
    if key is None:
        raise NotFound(f"no key {key_id!r} is registered")
    if key.compromised_at is not None:
        raise Conflict(f"key {key_id} was already declared compromised at "
                       f"{key.compromised_at.isoformat()}")
    if key.revoked_at is not None and not compromised:
        raise Conflict(f"key {key_id} was already retired at {key.revoked_at.isoformat()}; "
                       "add --compromised if it leaked")
    if key.revoked_at is None:
        key.revoked_at = now
    if compromised:
        key.compromised_at = now
    return key


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.code)))


def platform_of(session: Session, code: str) -> Platform:
    platform = session.get(Platform, code)
    if platform is None:
        raise NotFound(f"platform {code!r} is not registered", code="unknown_platform")
    return platform


def keys_of(session: Session, platform: str) -> list[PlatformKey]:
    """The platform's keys, revoked ones too, oldest first."""
    return list(session.scalars(select(PlatformKey).where(PlatformKey.platform == platform)
                                .order_by(PlatformKey.created_at, PlatformKey.key_id)))
