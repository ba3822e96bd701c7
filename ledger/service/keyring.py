"""The registered platforms and their public keys, read once per batch."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.infra.db.models import Platform, PlatformKey


@dataclass(frozen=True)
class RegisteredKey:
    key_id: str
    public_key: bytes
    revoked_at: datetime | None

    def active_at(self, moment: datetime) -> bool:
        return self.revoked_at is None or moment < self.revoked_at


@dataclass(frozen=True)
class Keyring:
    keys_by_platform: dict[str, list[RegisteredKey]] = field(default_factory=dict)

    def knows(self, platform: str) -> bool:
        return platform in self.keys_by_platform

    def keys(self, platform: str) -> list[RegisteredKey]:
        return self.keys_by_platform.get(platform, [])


def load_keyring(session: Session) -> Keyring:
    keys: dict[str, list[RegisteredKey]] = defaultdict(list)
    for (code,) in session.execute(select(Platform.code)):
        keys[code] = []
    for row in session.scalars(select(PlatformKey).order_by(PlatformKey.created_at)):
        keys[row.platform].append(RegisteredKey(row.key_id, row.public_key, row.revoked_at))
    return Keyring(dict(keys))
