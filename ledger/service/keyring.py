"""The registered platforms and their public keys, read once per batch."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.keyring import Keyring, RegisteredKey
from ledger.infra.db.models import Platform, PlatformKey

__all__ = ["Keyring", "RegisteredKey", "load_keyring"]


def load_keyring(session: Session) -> Keyring:
    keys: dict[str, list[RegisteredKey]] = defaultdict(list)
    for (code,) in session.execute(select(Platform.code)):
        keys[code] = []
    for row in session.scalars(select(PlatformKey).order_by(PlatformKey.created_at)):
        keys[row.platform].append(RegisteredKey(row.key_id, row.public_key, row.revoked_at))
    return Keyring(dict(keys))
