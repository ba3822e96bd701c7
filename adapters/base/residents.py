"""Sealing the ID numbers the adapter must remember to deliver the ledger's notices.

A notice names the resident by pseudonym only (an HMAC, which cannot be reversed), but the
platform knows its residents by ID number. The adapter sees each ID number when that resident's
points come in, so it remembers pseudonym → ID number in its outbox, sealed with AES-GCM under
a key derived from the pepper it already holds: the outbox file alone reveals no ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Domain separation: the pepper also keys the pseudonyms; this key must differ from theirs.
SEALING_KEY_LABEL = b"pointsledger adapter resident directory v1"
NONCE_LENGTH_BYTES = 12


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
