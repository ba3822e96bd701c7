"""The registered platforms and their public keys, as stage one of ingestion sees them.

Pure data, so that the stage-one helper process can verify without importing any database code
(`ledger.service.keyring` loads it from the database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
