"""Notices the ledger sends to a platform (SPEC §5, §9): a redemption at a branch counter, or its
reversal, so that the platform can debit (or credit back) its own balance.

A notice travels like a point event in the other direction: compact UTF-8 JSON, signed with the
ledger's own key under Standard Webhooks `v1a` (`webhook-id` = `notice_id`), published to
`pointsledger.outbound` with routing key `{platform}.{type}`. It names the resident by
pseudonym only; the platform's adapter, which saw the ID number when the points came in, turns
it back into the platform's own identity before delivering.

The ledger produces notices with `sign_notice`; adapters check them with `verify_notice`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.envelope import (
    EVENT_ID_PATTERN,
    PLATFORM_CODE_PATTERN,
    RESIDENT_PATTERN,
    MalformedJson,
    SchemaInvalid,
    load_json_object,
    parse_rfc3339,
)
from ledger.contract.signing import event_body
from ledger.contract.webhook import (
    SignatureHeaderError,
    parse_signature_headers,
    signed_headers,
    verifying_key,
)

NOTICE_SIZE_MAX_BYTES = 4 * 1024
REFERENCE_LENGTH_MAX = 64
# A redemption may be several gifts at once, so its points may exceed one event's maximum.
NOTICE_POINTS_MAX = 10_000_000
FIELDS = ("notice_id", "platform", "type", "resident", "points", "occurred_at",
          "redemption_id", "branch", "receipt_no", "ledger_seq")


class NoticeType(StrEnum):
    REDEEMED = "points.redeemed"
    REDEMPTION_REVERSED = "points.redemption_reversed"


class NoticeRefusal(StrEnum):
    """Why an adapter refuses a notice (it keeps the notice with the reason)."""

    MALFORMED = "malformed"  # not a notice: bad JSON, a field missing or wrong
    BAD_SIGNATURE = "bad_signature"  # not signed by the ledger's key, or webhook-id ≠ notice_id
    WRONG_PLATFORM = "wrong_platform"  # a notice for another platform reached this queue
    UNKNOWN_RESIDENT = "unknown_resident"  # the adapter never saw this resident's ID number
    PLATFORM_REFUSED = "platform_refused"  # the platform answered that it will not take it


class NoticeRefused(ValueError):
    def __init__(self, reason: NoticeRefusal, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Notice:
    notice_id: str  # unique: the platform applies a notice once by this id
    platform: str
    type: NoticeType
    resident: str  # the pseudonym (SPEC §4.4)
    points: int  # a magnitude: redeemed points are debited, reversed ones credited back
    occurred_at: datetime
    redemption_id: str
    branch: str
    receipt_no: str
    ledger_seq: int  # the ledger entry that records it

    @property
    def routing_key(self) -> str:
        return f"{self.platform}.{self.type.value}"

    def document(self) -> dict[str, Any]:
        return {"notice_id": self.notice_id, "platform": self.platform,
                "type": self.type.value, "resident": self.resident, "points": self.points,
                "occurred_at": self.occurred_at.isoformat(),
                "redemption_id": self.redemption_id, "branch": self.branch,
                "receipt_no": self.receipt_no, "ledger_seq": self.ledger_seq}


@dataclass(frozen=True)
class SignedNotice:
    notice: Notice
    body: bytes
    headers: dict[str, str]


def sign_notice(ledger_key: Ed25519PrivateKey, notice: Notice,
                timestamp: int | None = None) -> SignedNotice:
    body = event_body(notice.document())
    stamp = int(time.time()) if timestamp is None else timestamp
    return SignedNotice(notice, body, signed_headers(ledger_key, notice.notice_id, stamp, body))


def verify_notice(body: bytes, headers: Mapping[str, str], ledger_public_key: bytes,
                  platform: str) -> Notice:
    """The notice, if the ledger signed exactly these bytes for `platform`; else NoticeRefused.

    The signature is checked before the body is trusted for anything; no clock skew rule here:
    a notice held back by a broker outage is still the ledger's word when it arrives.
    """
    try:
        parsed = parse_signature_headers(headers)
    except SignatureHeaderError as error:
        raise NoticeRefused(NoticeRefusal.BAD_SIGNATURE, str(error)) from None
    if verifying_key(parsed, body, [("ledger", ledger_public_key)]) is None:
        raise NoticeRefused(NoticeRefusal.BAD_SIGNATURE,
                            "no signature verifies under the ledger's public key")
    notice = parse_notice(body)
    if parsed.webhook_id != notice.notice_id:
        raise NoticeRefused(NoticeRefusal.BAD_SIGNATURE, "webhook-id differs from notice_id")
    if notice.platform != platform:
        raise NoticeRefused(NoticeRefusal.WRONG_PLATFORM,
                            f"the notice is for {notice.platform}, not {platform}")
    return notice


def parse_notice(body: bytes) -> Notice:
    """Strict, like the event envelope: every field present, no other, each of its type."""
    if len(body) > NOTICE_SIZE_MAX_BYTES:
        raise NoticeRefused(NoticeRefusal.MALFORMED,
                            f"the notice is larger than {NOTICE_SIZE_MAX_BYTES} bytes")
    try:
        document = load_json_object(body)
    except (MalformedJson, SchemaInvalid) as error:
        raise NoticeRefused(NoticeRefusal.MALFORMED, str(error)) from None
    errors = {field: "unknown field" for field in sorted(document.keys() - set(FIELDS))}
    errors.update({field: "missing" for field in FIELDS if field not in document})
    if errors:
        raise NoticeRefused(NoticeRefusal.MALFORMED, _describe(errors))
    occurred_at = document["occurred_at"]
    when = parse_rfc3339(occurred_at) if isinstance(occurred_at, str) else None
    checks = {
        "notice_id": _is_text(document["notice_id"]) and
        EVENT_ID_PATTERN.fullmatch(document["notice_id"]) is not None,
        "platform": _is_text(document["platform"]) and
        PLATFORM_CODE_PATTERN.fullmatch(document["platform"]) is not None,
        "type": document["type"] in {member.value for member in NoticeType},
        "resident": _is_text(document["resident"]) and
        RESIDENT_PATTERN.fullmatch(document["resident"]) is not None,
        "points": _is_integer(document["points"]) and
        1 <= document["points"] <= NOTICE_POINTS_MAX,
        "occurred_at": when is not None,
        "redemption_id": _is_reference(document["redemption_id"]),
        "branch": _is_reference(document["branch"]),
        "receipt_no": _is_reference(document["receipt_no"]),
        "ledger_seq": _is_integer(document["ledger_seq"]) and document["ledger_seq"] >= 1,
    }
    errors = {field: "invalid" for field, good in checks.items() if not good}
    if errors or when is None:
        raise NoticeRefused(NoticeRefusal.MALFORMED, _describe(errors))
    return Notice(document["notice_id"], document["platform"], NoticeType(document["type"]),
                  document["resident"], document["points"], when, document["redemption_id"],
                  document["branch"], document["receipt_no"], document["ledger_seq"])


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_reference(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= REFERENCE_LENGTH_MAX


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(errors: dict[str, str]) -> str:
    return "; ".join(f"{field}: {problem}" for field, problem in errors.items())
