"""What every adapter speaks internally: a native record in, a point change or a refusal out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ledger.contract.categories import Category, EventType


class QuarantineReason(StrEnum):
    BAD_RECORD = "bad_record"  # not a record at all: undecodable, not an object, a field missing
    BAD_ID_NUMBER = "bad_id_number"
    UNKNOWN_CATEGORY = "unknown_category"
    BAD_DATE = "bad_date"
    BAD_POINTS = "bad_points"
    UNKNOWN_REVOCATION_TARGET = "unknown_revocation_target"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # a record id seen before with other content


@dataclass(frozen=True)
class NativeRecord:
    """One record as the platform sent it.

    `location` says where it was found (`webhook 3f2a… item 2`, `export.csv line 7`), `raw` is
    its text for the quarantine, and `fields` its parsed form (empty when it could not be parsed).
    """

    location: str
    raw: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    # Why the record could not even be parsed (bad encoding, not JSON, not an object), if so.
    unreadable: str | None = None


@dataclass(frozen=True)
class PointChange:
    """A native record in the canonical vocabulary, still with the raw ID number (never stored)."""

    native_id: str
    id_number: str
    type: EventType
    category: Category
    points: int  # the magnitude; the type gives the sign
    occurred_at: datetime
    revokes_native_id: str | None = None
    memo: str | None = None


class RecordRefused(Exception):
    """The record cannot be mapped; it goes to the quarantine with this reason, never guessed."""

    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

