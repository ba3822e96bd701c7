"""Standard Webhooks, signature scheme `v1a` (Ed25519) (SPEC §4.3).

Signed content is `{webhook-id}.{webhook-timestamp}.{body}` over the exact body bytes. Keys travel
as `whpk_<base64 of 32 raw bytes>` (public) and `whsk_<base64 of the 32-byte seed>` (private).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
HEADER_NAMES = (HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE)

PUBLIC_KEY_PREFIX = "whpk_"
PRIVATE_KEY_PREFIX = "whsk_"
SCHEME = "v1a"
KEY_LENGTH_BYTES = 32
SIGNATURE_LENGTH_BYTES = 64
SIGNATURES_PER_HEADER_MAX = 8
HEADER_LENGTH_MAX = 1024
# The last second a date can hold (9999-12-31T23:59:59Z): a timestamp beyond it names no moment.
TIMESTAMP_MAX_S = 253_402_300_799
PUBLIC_KEYS_CACHED_MAX = 256


class KeyFormatError(ValueError):
    """A key string is not `whpk_…`/`whsk_…` with 32 base64-encoded bytes."""


def _decode_key(text: str, prefix: str) -> bytes:
    if not text.startswith(prefix):
        raise KeyFormatError(f"a key must start with {prefix}")
    try:
        raw = base64.b64decode(text[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("the key is not valid base64") from None
    if len(raw) != KEY_LENGTH_BYTES:
        raise KeyFormatError(f"the key must encode {KEY_LENGTH_BYTES} bytes, not {len(raw)}")
    return raw


def decode_public_key(text: str) -> bytes:
    return _decode_key(text.strip(), PUBLIC_KEY_PREFIX)


def decode_private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode_key(text.strip(), PRIVATE_KEY_PREFIX))


def encode_public_key(raw: bytes) -> str:
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def encode_private_key(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return PRIVATE_KEY_PREFIX + base64.b64encode(seed).decode("ascii")


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_for(public_key: bytes) -> str:
    """A stable id derived from the key itself, so the same key can never be registered twice."""
    return "key_" + hashlib.sha256(public_key).hexdigest()[:16]


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(key: Ed25519PrivateKey, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One `v1a,<base64>` signature entry."""
    signature = key.sign(signed_content(webhook_id, timestamp, body))
    return f"{SCHEME},{base64.b64encode(signature).decode('ascii')}"


def signed_headers(key: Ed25519PrivateKey, webhook_id: str, timestamp: int,
                   body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    return {
        HEADER_ID: webhook_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(key, webhook_id, timestamp, body),
    }


@dataclass(frozen=True)
class SignatureHeaders:
    webhook_id: str
    timestamp: int
    signatures: tuple[bytes, ...]


class SignatureHeaderError(ValueError):
    """The webhook headers are missing or malformed."""


class TimestampInvalid(SignatureHeaderError):
    """`webhook-timestamp` is not a whole number of seconds between 0 and TIMESTAMP_MAX_S."""


def parse_timestamp(text: str) -> int:
    """Integer Unix seconds that a date can hold; raises TimestampInvalid for anything else
    (a sign, a fraction, spaces, a number no date can hold), so no caller ever converts an
    absurd value into a datetime."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(TIMESTAMP_MAX_S))):
        raise TimestampInvalid("webhook-timestamp must be a whole number of Unix seconds")
    seconds = int(text)
    if seconds > TIMESTAMP_MAX_S:
        raise TimestampInvalid("webhook-timestamp is beyond any date")
    return seconds


def parse_signature_headers(headers: Mapping[str, str]) -> SignatureHeaders:
    """Read the three headers (names case-insensitive); keep only well-formed v1a entries.

    Raises TimestampInvalid for a timestamp that names no moment, SignatureHeaderError for
    anything else that is missing or malformed."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in HEADER_NAMES if not lowered.get(name)]
    if missing:
        raise SignatureHeaderError("missing header " + ", ".join(missing))
    webhook_id = lowered[HEADER_ID]
    timestamp_text = lowered[HEADER_TIMESTAMP]
    signature_text = lowered[HEADER_SIGNATURE]
    if len(webhook_id) > HEADER_LENGTH_MAX or len(signature_text) > HEADER_LENGTH_MAX:
        raise SignatureHeaderError("a webhook header is too long")
    timestamp = parse_timestamp(timestamp_text)
    signatures: list[bytes] = []
    for entry in signature_text.split(" ")[:SIGNATURES_PER_HEADER_MAX]:
        scheme, _, encoded = entry.partition(",")
        if scheme != SCHEME:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == SIGNATURE_LENGTH_BYTES:
            signatures.append(raw)
    if not signatures:
        raise SignatureHeaderError("webhook-signature holds no v1a signature")
    return SignatureHeaders(webhook_id, timestamp, tuple(signatures))


@functools.lru_cache(maxsize=PUBLIC_KEYS_CACHED_MAX)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    """Parsing a key costs a tenth of a verification; a ledger has only a handful of keys."""
    return Ed25519PublicKey.from_public_bytes(raw)


def verifying_key(parsed: SignatureHeaders, body: bytes,
                  candidates: Iterable[tuple[str, bytes]]) -> str | None:
    """The id of the first candidate key under which one of the signatures verifies, or None."""
    content = signed_content(parsed.webhook_id, parsed.timestamp, body)
    for key_id, raw_public_key in candidates:
        public_key = _public_key(raw_public_key)
        for signature in parsed.signatures:
            try:
                public_key.verify(signature, content)
            except InvalidSignature:
                continue
            return key_id
    return None
