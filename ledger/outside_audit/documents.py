"""The JSON documents the ledger's API answers, read strictly: an answer of another shape is the
server's fault (ServerError), said in one sentence, never a KeyError or a TypeError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.contract.merkle import HASH_SIZE_BYTES
from ledger.contract.webhook import KeyFormatError, decode_public_key
from ledger.outside_audit.errors import ServerError

# A consistency proof between trees of at most 2^63 leaves has at most 2·63 hashes.
PROOF_HASHES_MAX = 126


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: int | None


@dataclass(frozen=True)
class KeyRecord:
    """A platform's public key as the ledger registered it, with the moments that bound it."""

    key_id: str
    platform: str
    public_key: bytes
    added_at: datetime
    revoked_at: datetime | None
    compromised_at: datetime | None


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def consistency_hashes(document: object, first: int, second: int) -> list[bytes]:
    """The hashes of `{"first": M, "second": N, "hashes": [hex, …]}`, which must answer the
    proof asked for."""
    said = f"the server's consistency proof from size {first} to {second}"
    if not isinstance(document, dict):
        raise ServerError(f"{said} is not a JSON object")
    if document.get("first") != first or document.get("second") != second:
        raise ServerError(f"{said} names other sizes ({document.get('first')!r} to "
                          f"{document.get('second')!r})")
    hashes = document.get("hashes")
    if not isinstance(hashes, list) or len(hashes) > PROOF_HASHES_MAX:
        raise ServerError(f"{said} has no list of at most {PROOF_HASHES_MAX} hashes")
    return [_hash(value, said) for value in hashes]


def _hash(value: object, said: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != HASH_SIZE_BYTES:
        raise ServerError(f"{said} holds {value!r}, which is not a hex SHA-256 hash")
    return raw


def page(document: object, path: str) -> Page:
    """`{"items": [object, …], "next": integer-or-null}`."""
    said = f"the server's answer to GET {path}"
    if not isinstance(document, dict):
        raise ServerError(f"{said} is not a JSON object")
    items, following = document.get("items"), document.get("next")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ServerError(f"{said} has no list of objects in `items`")
    if following is not None and not _is_integer(following):
        raise ServerError(f"{said} has a `next` that is neither an integer nor null")
    return Page(items, following)


def platform_code(item: dict[str, Any], path: str) -> str:
    code = item.get("code")
    if not isinstance(code, str) or not code:
        raise ServerError(f"a platform in the server's answer to GET {path} has no `code`")
    return code


def key_record(item: dict[str, Any], path: str) -> KeyRecord:
    """One item of `GET /platforms/{code}/keys`."""
    said = f"a key in the server's answer to GET {path}"
    key_id, platform, public_key = item.get("key_id"), item.get("platform"), item.get("public_key")
    if not isinstance(key_id, str) or not isinstance(platform, str):
        raise ServerError(f"{said} has no `key_id` or no `platform`")
    try:
        raw = decode_public_key(public_key) if isinstance(public_key, str) else None
    except KeyFormatError:
        raw = None
    if raw is None:
        raise ServerError(f"{said} ({key_id}) has no `public_key` of the form whpk_…")
    added_at = moment(item.get("added_at"), f"{said} ({key_id}): added_at")
    if added_at is None:
        raise ServerError(f"{said} ({key_id}) has no `added_at`")
    return KeyRecord(key_id, platform, raw, added_at,
                     moment(item.get("revoked_at"), f"{said} ({key_id}): revoked_at"),
                     moment(item.get("compromised_at"), f"{said} ({key_id}): compromised_at"))


def moment(value: object, said: str) -> datetime | None:
    """An RFC 3339 time with its offset, or None for null; ServerError for anything else."""
    if value is None:
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        raise ServerError(f"{said} is {value!r}, not an RFC 3339 time with its offset")
    return parsed


def parse_rfc3339(value: object) -> datetime | None:
    """The moment of an RFC 3339 text with its offset (`Z` or ±hh:mm); None for anything else."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def rfc3339(moment: datetime) -> str:
    """A moment as the audit's sentences name it: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
