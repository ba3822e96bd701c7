"""The registered platforms and their public keys, as stage one of ingestion sees them.

Pure data, so that the stage-one helper process can verify without importing any database code
(`ledger.service.keyring` loads it from the database).

A key is revoked in one of two ways (SPEC §3). A *retired* key was rotated out in the ordinary
course: the platform's backlog signed before the retirement still counts, for a grace period, so
a rotation loses nothing. A *compromised* key leaked: its signature proves nothing any more,
whatever timestamp it carries (whoever holds the key writes the timestamp too), so everything
received after the declaration is refused. Both rules read only the ledger's own clock and the
moments the ledger recorded, never a moment the message claims, except the retirement rule's
"signed before", which the grace period bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RegisteredKey:
    key_id: str
    public_key: bytes
    # Retired: signatures timestamped at or after this moment are refused.
    signed_before: datetime | None = None
    # Retired (the retirement plus its grace) or compromised (the declaration): anything the
    # ledger receives at or after this moment is refused, whatever its signature's timestamp.
    received_before: datetime | None = None
    compromised: bool = False

    def refusal(self, signed_at: datetime, received_at: datetime) -> str | None:
        """Why this key no longer vouches for a signature made (it says) at `signed_at` and
        received at `received_at`; None when it still does."""
        if self.received_before is not None and received_at >= self.received_before:
            if self.compromised:
                return f"key {self.key_id} was declared compromised; nothing it signs is accepted"
            return f"key {self.key_id} was retired and its grace for older signatures has ended"
        if self.signed_before is not None and signed_at >= self.signed_before:
            return f"key {self.key_id} was retired before this signature's timestamp"
        return None


@dataclass(frozen=True)
class Keyring:
    keys_by_platform: dict[str, list[RegisteredKey]] = field(default_factory=dict)

    def knows(self, platform: str) -> bool:
        return platform in self.keys_by_platform

    def keys(self, platform: str) -> list[RegisteredKey]:
        return self.keys_by_platform.get(platform, [])
