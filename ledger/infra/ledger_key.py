"""The ledger's own Ed25519 key (SPEC §2): it signs the notices the ledger sends to platforms."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.webhook import KeyFormatError, decode_private_key, encode_private_key
from ledger.settings import SettingsError

log = logging.getLogger(__name__)


def load_or_create_ledger_key(path: Path) -> Ed25519PrivateKey:
    """Read the `whsk_…` key at `path`, or generate it there once (mode 0600)."""
    if path.exists():
        try:
            return decode_private_key(path.read_text(encoding="ascii"))
        except (KeyFormatError, UnicodeDecodeError, ValueError):
            raise SettingsError(
                f"POINTSLEDGER_LEDGER_KEY_FILE ({path}) does not hold a whsk_ Ed25519 key"
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process generated it between our check and our create: use theirs.
        return load_or_create_ledger_key(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(encode_private_key(key) + "\n")
    log.warning("generated the ledger key into %s; back it up", path)
    return key
