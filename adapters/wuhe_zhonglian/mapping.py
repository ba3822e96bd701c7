"""五和众联 items `{"id", "idCard", "action", "score", "time"}` → PointChanges.

`action` names the activity; a negative `score` is a deduction (the platform has no
revocations). `time` is epoch milliseconds (UTC by definition), so no local-time guessing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.base import mapping
from adapters.base.mapping import CategoryTable
from adapters.base.records import NativeRecord, PointChange, QuarantineReason, RecordRefused
from adapters.base.redaction import quoted
from ledger.contract.categories import Category, EventType

PLATFORM = "wuhe_zhonglian"

# Epoch milliseconds outside this window are a unit mistake (seconds, microseconds) or garbage;
# the upper bound also keeps datetime.fromtimestamp from overflowing.
TIME_MIN_MS = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)
TIME_MAX_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)

CATEGORIES = CategoryTable({
    "volunteer": Category.VOLUNTEERING,
    "mutual_aid": Category.MUTUAL_AID,
    "village_meeting": Category.CIVIC_PARTICIPATION,
    "patrol": Category.SAFETY_PATROL,
    "clean_up": Category.ENVIRONMENT_HYGIENE,
    "sorting": Category.GARBAGE_SORTING,
    "safety_class": Category.SAFETY_EDUCATION,
    "quiz": Category.KNOWLEDGE_QUIZ,
    "honor": Category.HONORS,
})


def epoch_ms(value: object) -> datetime:
    """An integer of epoch milliseconds → an aware UTC datetime; anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {quoted(value)} is not an integer of epoch milliseconds")
    if not TIME_MIN_MS <= value < TIME_MAX_MS:
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {value} is not epoch milliseconds between 2000 and 2100")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


class WuheZhonglianMapper:
    platform = PLATFORM

    def map_record(self, record: NativeRecord) -> PointChange:
        fields = record.fields
        native_id = mapping.text(fields, "id")  # an int or a string on the wire
        id_number = mapping.id_number(mapping.required(fields, "idCard"))
        category = CATEGORIES(mapping.required(fields, "action"))
        score = mapping.signed_points(mapping.required(fields, "score"))
        occurred_at = epoch_ms(mapping.required(fields, "time"))
        event_type = EventType.DEDUCTED if score < 0 else EventType.AWARDED
        return PointChange(native_id, id_number, event_type, category, abs(score), occurred_at)
