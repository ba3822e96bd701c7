"""The registered platforms and their public keys, read once per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.keyring import Keyring, RegisteredKey
from ledger.infra.db.models import Platform, PlatformKey

__all__ = ["Keyring", "RegisteredKey", "load_keyring", "registered_keys"]


def load_keyring(session: Session, retired_key_grace: timedelta) -> Keyring:
    keys: dict[str, list[RegisteredKey]] = defaultdict(list)
    for (code,) in session.execute(select(Platform.code)):
        keys[code] = []
    rows = session.scalars(select(PlatformKey).order_by(PlatformKey.created_at))
    for row in rows:
        keys[row.platform].append(registered_key(row, retired_key_grace))
    return Keyring(dict(keys))


def registered_keys(session: Session, key_ids: Iterable[str],
                    retired_key_grace: timedelta) -> dict[str, RegisteredKey]:
    """The keys of these ids as they stand now (for a last look just before appending)."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(PlatformKey).where(PlatformKey.key_id.in_(wanted)))
    return {row.key_id: registered_key(row, retired_key_grace) for row in rows}


def registered_key(row: PlatformKey, retired_key_grace: timedelta) -> RegisteredKey:
    """What a key's revocation means for verification (ledger.domain.keyring)."""
    if row.revoked_at is None:
        return RegisteredKey(row.key_id, row.public_key)
    grace_ends = row.revoked_at + retired_key_grace
    if row.compromised_at is not None:
        # A retired key declared compromised later: whichever moment comes first ends it.
        return RegisteredKey(row.key_id, row.public_key, row.revoked_at,
                             min(row.compromised_at, grace_ends), compromised=True)
    return RegisteredKey(row.key_id, row.public_key, row.revoked_at, grace_ends)
