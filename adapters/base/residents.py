"""Sealing what the adapter must remember but must not keep readable.

A notice names the resident by pseudonym only (an HMAC, which cannot be reversed), but the
platform knows its residents by ID number. The adapter sees each ID number when that resident's
points come in, so it remembers pseudonym → ID number in its outbox, sealed with AES-GCM under
a key derived from the pepper it already holds: the outbox file alone reveals no ID number.
A platform's own value the adapter must send back as it came (五和众联's cursor, which is a
record id and may be shaped like an ID number) is sealed the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Domain separation: the pepper also keys the pseudonyms; this key must differ from theirs.
SEALING_KEY_LABEL = b"pointsledger adapter resident directory v1"
NONCE_LENGTH_BYTES = 12
SEALED_TEXT_PREFIX = "sealed:v1:"


class SealBroken(ValueError):
    """The sealed value was altered, or sealed under another pepper."""


class ResidentSeal:
    def __init__(self, pepper: str) -> None:
        key = hmac.new(pepper.encode("utf-8"), SEALING_KEY_LABEL, hashlib.sha256).digest()
        self._aead = AESGCM(key)

    def seal(self, resident: str, id_number: str) -> bytes:
        """The ID number encrypted and bound to its pseudonym (a row cannot be swapped)."""
        nonce = os.urandom(NONCE_LENGTH_BYTES)
        return nonce + self._aead.encrypt(nonce, id_number.encode("ascii"),
                                          resident.encode("ascii"))

    def open(self, resident: str, sealed: bytes) -> str:
        nonce, ciphertext = sealed[:NONCE_LENGTH_BYTES], sealed[NONCE_LENGTH_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, resident.encode("ascii")).decode("ascii")
        except (InvalidTag, ValueError):
            raise SealBroken(f"the sealed ID number of resident {resident[:12]}… does not "
                             "open with this pepper") from None

    def seal_text(self, name: str, text: str) -> str:
        """A value kept under `name` (bound to it), as text for a state column."""
        nonce = os.urandom(NONCE_LENGTH_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, text.encode("utf-8"), _label(name))
        return SEALED_TEXT_PREFIX + base64.b64encode(sealed).decode("ascii")

    def open_text(self, name: str, stored: str) -> str:
        """The value seal_text sealed; a value an older adapter kept unsealed comes back as
        it is (it is sealed when next saved)."""
        if not stored.startswith(SEALED_TEXT_PREFIX):
            return stored
        try:
            sealed = base64.b64decode(stored[len(SEALED_TEXT_PREFIX):], validate=True)
            nonce, ciphertext = sealed[:NONCE_LENGTH_BYTES], sealed[NONCE_LENGTH_BYTES:]
            return self._aead.decrypt(nonce, ciphertext, _label(name)).decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise SealBroken(f"the sealed {name} does not open with this pepper") from None


def _label(name: str) -> bytes:
    # Never a pseudonym (64 hex), so a sealed state value cannot pass for a sealed ID number.
    return b"state:" + name.encode("utf-8")
