"""Re-verifying a platform's signature of an entry from the bytes the ledger kept (SPEC §4.3,
§14), against the platform's keys as they were when the ledger recorded it.

The ledger keeps, for each platform event, the exact body, the webhook-timestamp and
webhook-signature headers, and the id of the key that verified it (the webhook-id is the event's
`event_id`). A key vouches for an entry when it is a key of the entry's platform that had been
added when the entry was recorded, had not been declared compromised by then, and, if it was
retired, was retired after the signature's timestamp. (The retirement's grace for late arrivals
is the ledger's own setting, which an auditor outside the bank is not given.)

Pure functions of values: they run in this process or in a pool's (`signature_pool`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from ledger.contract.categories import EventType
from ledger.contract.webhook import (
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SignatureHeaderError,
    parse_signature_headers,
    verifying_key,
)
from ledger.outside_audit.documents import KeyRecord, parse_rfc3339, rfc3339
from ledger.outside_audit.errors import ServerError

# A platform signs these; the ledger's own entries (a redemption, its reversal) carry no signature.
SIGNED_KINDS = frozenset(event_type.value for event_type in EventType)
# What checking a signature reads of an entry, in this order: the tuple a pool's worker is sent.
SIGNED_FIELDS = ("seq", "platform", "event_id", "recorded_at", "key_id", "body",
                 "webhook_timestamp", "webhook_signature")
SignedFields = tuple[Any, ...]
Refusal = tuple[int, str]  # (seq, why its signature does not verify)


def needs_signature(entry: dict[str, Any]) -> bool:
    """A platform's event, or any entry that carries a signature: an event of a signed kind
    whose signature was stripped must fail, not pass as one of the ledger's own entries."""
    return entry.get("kind") in SIGNED_KINDS or "webhook_signature" in entry


def signed_fields(entry: dict[str, Any]) -> SignedFields:
    """The SIGNED_FIELDS of an entry, in their order (spelt out: it runs for every entry)."""
    get = entry.get
    return (get("seq"), get("platform"), get("event_id"), get("recorded_at"), get("key_id"),
            get("body"), get("webhook_timestamp"), get("webhook_signature"))


class KeyHistory:
    """Every platform's keys, by key id, with the moments that bound them."""

    def __init__(self, records: Iterable[KeyRecord]) -> None:
        self._by_id: dict[str, KeyRecord] = {}
        for record in records:
            known = self._by_id.get(record.key_id)
            if known is not None and known != record:
                raise ServerError(f"the server gives the key {record.key_id} twice, "
                                  f"differently")
            self._by_id[record.key_id] = record

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, key_id: str) -> KeyRecord | None:
        return self._by_id.get(key_id)


def key_refusal(key: KeyRecord, recorded_at: datetime, signed_at: datetime) -> str | None:
    """Why `key` did not vouch for a signature made at `signed_at` that the ledger recorded at
    `recorded_at`; None when it did."""
    if key.added_at > recorded_at:
        return (f"key {key.key_id} was added at {rfc3339(key.added_at)}, after the entry was "
                f"recorded at {rfc3339(recorded_at)}")
    if key.compromised_at is not None and key.compromised_at <= recorded_at:
        return (f"key {key.key_id} was declared compromised at {rfc3339(key.compromised_at)}, "
                f"before the entry was recorded at {rfc3339(recorded_at)}")
    if key.revoked_at is not None and signed_at >= key.revoked_at:
        return (f"key {key.key_id} was retired at {rfc3339(key.revoked_at)}, before the "
                f"signature's timestamp {rfc3339(signed_at)}")
    return None


def signature_refusal(fields: SignedFields, keys: KeyHistory) -> str | None:
    """Why the entry's kept signature does not verify; None when it does."""
    _, platform, event_id, recorded_text, key_id, body, timestamp, signature = fields
    if not all(isinstance(value, str) for value in (platform, event_id, key_id, body, signature)):
        return "the entry does not keep its event_id, body, key_id and webhook_signature"
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return "the entry does not keep its webhook_timestamp as an integer"
    recorded_at = parse_rfc3339(recorded_text)
    if recorded_at is None:
        return "the entry's recorded_at is not an RFC 3339 time"
    try:
        headers = parse_signature_headers({HEADER_ID: event_id, HEADER_TIMESTAMP: str(timestamp),
                                           HEADER_SIGNATURE: signature})
        body_bytes = body.encode("utf-8")
    except SignatureHeaderError as error:
        return f"its kept webhook headers are malformed: {error}"
    except UnicodeEncodeError:
        return "its kept body is not UTF-8 text"
    key = keys.get(key_id)
    if key is None or key.platform != platform:
        return f"{key_id!r} is not a key of platform {platform!r}"
    refusal = key_refusal(key, recorded_at, datetime.fromtimestamp(headers.timestamp, UTC))
    if refusal is not None:
        return refusal
    if verifying_key(headers, body_bytes, [(key_id, key.public_key)]) is None:
        return f"no v1a signature in it verifies under key {key_id} of platform {platform}"
    return None


def first_refusal(batch: Sequence[SignedFields], keys: KeyHistory) -> Refusal | None:
    """The first entry of the batch (in seq order) whose signature does not verify, and why."""
    for fields in batch:
        refusal = signature_refusal(fields, keys)
        if refusal is not None:
            return fields[0], refusal
    return None
