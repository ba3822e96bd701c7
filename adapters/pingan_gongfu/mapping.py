"""平安共富积分 activity records `{"activityId", "activityType", "participant": {"idNo"}, "earned",
"at"}` → PointChanges.

The platform only awards: every record is points earned for one activity. `at` is RFC 3339 with
its offset, so unlike the local-time platforms no time zone is assumed; a time without an offset
is refused rather than guessed to be Shanghai time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import mapping
from adapters.base.mapping import CategoryTable
from adapters.base.records import NativeRecord, PointChange, QuarantineReason, RecordRefused
from adapters.base.redaction import quoted
from ledger.contract.categories import Category, EventType

PLATFORM = "pingan_gongfu"

# The platform's four activity types; it has no others, and nothing else is mapped.
CATEGORIES = CategoryTable({
    "PATROL": Category.SAFETY_PATROL,
    "WELFARE": Category.VOLUNTEERING,
    "VIDEO": Category.SAFETY_EDUCATION,
    "QUIZ": Category.KNOWLEDGE_QUIZ,
})

# RFC 3339 date-time, stricter than datetime.fromisoformat (which also takes a space for 'T', no
# seconds, or no offset at all): 'T', seconds, an optional fraction, and 'Z' or ±HH:MM. ASCII
# digits only, since `\d` would also let other scripts' digits through.
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")


def rfc3339_time(value: object) -> datetime:
    """An RFC 3339 time with its offset → an aware datetime; anything else is a bad date."""
    if not isinstance(value, str):
        raise RecordRefused(QuarantineReason.BAD_DATE, "the time is not text")
    if RFC3339.fullmatch(value) is None:
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {quoted(value)} is not RFC 3339 with an offset")
    try:
        # The pattern checked the shape; this checks the calendar (no 30 February, no 25:00).
        return datetime.fromisoformat(value)
    except ValueError:
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {quoted(value)} is not a real moment") from None


def participant_id_number(fields: Mapping[str, Any]) -> str:
    """The ID number nested in `participant`; a participant that is not an object is a broken
    record (not a bad ID number: there is no ID number to judge)."""
    participant = mapping.required(fields, "participant")
    if not isinstance(participant, Mapping):
        raise RecordRefused(QuarantineReason.BAD_RECORD, "field 'participant' is not an object")
    try:
        value = mapping.required(participant, "idNo")
    except RecordRefused:
        raise RecordRefused(QuarantineReason.BAD_RECORD,
                            "field 'participant.idNo' is missing") from None
    return mapping.id_number(value)


class PinganGongfuMapper:
    platform = PLATFORM

    def map_record(self, record: NativeRecord) -> PointChange:
        fields = record.fields
        native_id = mapping.text(fields, "activityId")
        id_number = participant_id_number(fields)
        category = CATEGORIES(mapping.required(fields, "activityType"))
        # `earned` is always a gain: zero or negative points are refused, not read as deductions.
        points = mapping.magnitude(mapping.required(fields, "earned"))
        occurred_at = rfc3339_time(mapping.required(fields, "at"))
        return PointChange(native_id, id_number, EventType.AWARDED, category, points, occurred_at)
