"""The ledger's own Ed25519 key (SPEC §2): it signs the notices the ledger sends to platforms."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.webhook import KeyFormatError, decode_private_key, encode_private_key
from ledger.runtime.secret_file import write_secret_file
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
    key = Ed25519PrivateKey.generate()
    try:
        write_secret_file(path, encode_private_key(key) + "\n")
    except FileExistsError:
        # Another process generated it between our check and our create: use theirs.
        return load_or_create_ledger_key(path)
    log.warning("generated the ledger key into %s; back it up", path)
    return key
