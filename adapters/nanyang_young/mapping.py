"""南阳young CSV rows `流水号,身份证号,姓名,积分类型,积分,发生日期,备注` → PointChanges.

积分 is signed: a negative value is a deduction of its magnitude, a positive one an award; the
platform has no revocations. 发生日期 is a Shanghai calendar date without a time of day.

姓名 (name) and 备注 (memo) are personal data the ledger has no use for: they are never read here,
so they cannot reach an event.
"""

from __future__ import annotations

from datetime import datetime, time

from adapters.base import mapping
from adapters.base.mapping import SHANGHAI, CategoryTable
from adapters.base.records import NativeRecord, PointChange, QuarantineReason, RecordRefused
from adapters.base.redaction import quoted
from ledger.contract.categories import Category, EventType

PLATFORM = "nanyang_young"

# The export writes dates with dashes; files staff re-saved in Excel come back with slashes.
DATE_PATTERNS = ("%Y-%m-%d", "%Y/%m/%d")
# The platform records a day, not a moment. The start of that day in Shanghai keeps the record in
# its Shanghai calendar month (what contribution is counted by), is never ahead of the clock for
# a record of today, and every re-export yields the same instant (a retry, never a conflict).
DAY_TIME = time(0, 0)

# 积分类型 labels as the platform writes them.
CATEGORIES = CategoryTable({
    "垃圾分类": Category.GARBAGE_SORTING,
    "志愿服务": Category.VOLUNTEERING,
    "平安巡逻": Category.SAFETY_PATROL,
    "知识竞赛": Category.KNOWLEDGE_QUIZ,
    "环境卫生": Category.ENVIRONMENT_HYGIENE,
    "邻里互助": Category.MUTUAL_AID,
    "村务议事": Category.CIVIC_PARTICIPATION,
    "社区活动": Category.CIVIC_PARTICIPATION,
    "安全教育": Category.SAFETY_EDUCATION,
    "表彰奖励": Category.HONORS,
})


def occurred_at(value: object) -> datetime:
    """The record's day (`YYYY-MM-DD` or `YYYY/MM/DD`) at its start, Shanghai time."""
    if not isinstance(value, str):
        raise RecordRefused(QuarantineReason.BAD_DATE, "the date is not text")
    for pattern in DATE_PATTERNS:
        try:
            day = datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
        return datetime.combine(day, DAY_TIME, tzinfo=SHANGHAI)
    raise RecordRefused(QuarantineReason.BAD_DATE,
                        f"date {quoted(value)} is not YYYY-MM-DD or YYYY/MM/DD")


class NanyangYoungMapper:
    platform = PLATFORM

    def map_record(self, record: NativeRecord) -> PointChange:
        fields = record.fields
        native_id = mapping.text(fields, "流水号")
        id_number = mapping.id_number(mapping.required(fields, "身份证号"))
        category = CATEGORIES(mapping.required(fields, "积分类型"))
        points = mapping.signed_points(mapping.required(fields, "积分"))
        when = occurred_at(mapping.required(fields, "发生日期"))
        event_type = EventType.DEDUCTED if points < 0 else EventType.AWARDED
        return PointChange(native_id, id_number, event_type, category, abs(points), when)
