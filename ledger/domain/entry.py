"""A ledger entry as the world sees it, and the hash chain over it (SPEC §6).

The entry document is exactly what `GET /api/v1/ledger/entries` returns without `entry_hash`.
Fields whose value is null are left out, so that a field added for a later kind of entry never
changes the document, and so the hash, of an entry written before it existed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from ledger.contract.canonical_json import JSON_SAFE_INTEGER_MAX, canonical_json

GENESIS_HASH = bytes(32)
LEAF_PREFIX = b"\x00"


def rfc3339_utc(moment: datetime) -> str:
    """UTC with a `Z`; microseconds only when present, so the text round-trips exactly.

    (`isoformat` writes the six digits of microseconds exactly when there are any, and is
    several times faster than `strftime`.)"""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None).isoformat() + "Z"


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    kind: str
    platform: str
    resident: str
    points: int
    occurred_at: datetime
    recorded_at: datetime
    event_id: str | None = None
    platform_seq: int | None = None
    category: str | None = None
    revokes: str | None = None
    key_id: str | None = None
    body: str | None = None
    webhook_timestamp: int | None = None
    webhook_signature: str | None = None
    # The ledger's own entries: a redemption at a branch counter or its reversal (SPEC §6, §9).
    redemption_id: str | None = None
    branch: str | None = None

    def document(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "seq": self.seq,
            "kind": self.kind,
            "platform": self.platform,
            "event_id": self.event_id,
            "platform_seq": self.platform_seq,
            "resident": self.resident,
            "category": self.category,
            "points": self.points,
            "occurred_at": rfc3339_utc(self.occurred_at),
            "recorded_at": rfc3339_utc(self.recorded_at),
            "revokes": self.revokes,
            "key_id": self.key_id,
            "body": self.body,
            "webhook_timestamp": self.webhook_timestamp,
            "webhook_signature": self.webhook_signature,
            "redemption_id": self.redemption_id,
            "branch": self.branch,
        }
        return {name: value for name, value in raw.items() if value is not None}


def entry_canonical_json(entry: LedgerEntry) -> bytes:
    """`canonical_json(entry.document())`, written directly: the members in JCS order (sorted
    ASCII names), strings escaped as `json.dumps` escapes them. Appending hashes every entry,
    and this is about four times faster than building the document and serializing it."""
    if not (_safe_integer(entry.platform_seq) and _safe_integer(entry.webhook_timestamp)
            and _safe_integer(entry.seq) and _safe_integer(entry.points)):
        return canonical_json(entry.document())
    members = []
    if entry.body is not None:
        members.append('"body":' + encode_basestring(entry.body))
    if entry.branch is not None:
        members.append('"branch":' + encode_basestring(entry.branch))
    if entry.category is not None:
        members.append('"category":' + encode_basestring(entry.category))
    if entry.event_id is not None:
        members.append('"event_id":' + encode_basestring(entry.event_id))
    if entry.key_id is not None:
        members.append('"key_id":' + encode_basestring(entry.key_id))
    members.append('"kind":' + encode_basestring(entry.kind))
    members.append(f'"occurred_at":"{rfc3339_utc(entry.occurred_at)}"')
    members.append('"platform":' + encode_basestring(entry.platform))
    if entry.platform_seq is not None:
        members.append(f'"platform_seq":{entry.platform_seq}')
    members.append(f'"points":{entry.points}')
    members.append(f'"recorded_at":"{_batch_moment_text(entry.recorded_at)}"')
    if entry.redemption_id is not None:
        members.append('"redemption_id":' + encode_basestring(entry.redemption_id))
    members.append('"resident":' + encode_basestring(entry.resident))
    if entry.revokes is not None:
        members.append('"revokes":' + encode_basestring(entry.revokes))
    members.append(f'"seq":{entry.seq}')
    if entry.webhook_signature is not None:
        members.append('"webhook_signature":' + encode_basestring(entry.webhook_signature))
    if entry.webhook_timestamp is not None:
        members.append(f'"webhook_timestamp":{entry.webhook_timestamp}')
    return ("{" + ",".join(members) + "}").encode("utf-8")


_last_batch_moment: tuple[datetime | None, str] = (None, "")


def _batch_moment_text(moment: datetime) -> str:
    """rfc3339_utc of a moment shared by a whole batch (its entries' recorded_at), made once."""
    global _last_batch_moment
    last, text = _last_batch_moment
    if moment is not last:
        text = rfc3339_utc(moment)
        _last_batch_moment = (moment, text)
    return text


def _safe_integer(value: int | None) -> bool:
    return value is None or -JSON_SAFE_INTEGER_MAX <= value <= JSON_SAFE_INTEGER_MAX


def leaf_hash(document: dict[str, Any]) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + canonical_json(document)).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def entry_leaf_hash(entry: LedgerEntry) -> bytes:
    """The entry's `leaf_hash` (SPEC §6): its leaf in the Merkle tree and its link in the chain."""
    return hashlib.sha256(LEAF_PREFIX + entry_canonical_json(entry)).digest()


def leaf_and_entry_hash(previous: bytes, entry: LedgerEntry) -> tuple[bytes, bytes]:
    """The entry's leaf hash (for the Merkle tree, SPEC §14) and its entry hash after
    `previous`, the entry serialized once for both."""
    leaf = entry_leaf_hash(entry)
    return leaf, chain_hash(previous, leaf)


def next_entry_hash(previous: bytes, entry: LedgerEntry) -> bytes:
    return chain_hash(previous, entry_leaf_hash(entry))
