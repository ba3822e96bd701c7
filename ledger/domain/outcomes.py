"""Every event ends in exactly one outcome (SPEC §4.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Reason(StrEnum):
    MALFORMED_JSON = "malformed_json"
    SCHEMA_INVALID = "schema_invalid"
    TOO_LARGE = "too_large"
    UNKNOWN_PLATFORM = "unknown_platform"
    BAD_SIGNATURE = "bad_signature"
    KEY_REVOKED = "key_revoked"
    TIMESTAMP_SKEW = "timestamp_skew"
    ID_CONFLICT = "id_conflict"
    SEQ_CONFLICT = "seq_conflict"
    UNKNOWN_REVOCATION_TARGET = "unknown_revocation_target"
    ALREADY_REVOKED = "already_revoked"
    REVOCATION_MISMATCH = "revocation_mismatch"


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str
    platform: str | None = None
    event_id: str | None = None
    reason: Reason | None = None
    errors: dict[str, str] = field(default_factory=dict)
    seq: int | None = None
    entry_hash: str | None = None
    rejection_id: int | None = None

    @classmethod
    def rejected(cls, reason: Reason, detail: str, *, platform: str | None = None,
                 event_id: str | None = None, errors: dict[str, str] | None = None) -> Outcome:
        return cls(Status.REJECTED, detail, platform, event_id, reason, errors or {})
