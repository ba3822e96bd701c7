"""沥家园 records `{"jfjl_id", "sfzh", "jflx", "jfz", "fssj", "cz", "yjfjl_id"}` → PointChanges.

`cz` is the operation: ADD awards `jfz` points, SUB deducts them, CX revokes the earlier record
`yjfjl_id` (its points and category are the award's). `fssj` is Shanghai local time.
"""

from __future__ import annotations

from adapters.base import mapping
from adapters.base.mapping import CategoryTable
from adapters.base.records import NativeRecord, PointChange, QuarantineReason, RecordRefused
from adapters.base.redaction import quoted
from ledger.contract.categories import Category, EventType

PLATFORM = "lijiayuan"
TIME_PATTERN = "%Y-%m-%d %H:%M:%S"

# Native codes and their Chinese labels; the platform sends the code, staff sometimes the label.
CATEGORIES = CategoryTable({
    "LJFL": Category.GARBAGE_SORTING, "垃圾分类": Category.GARBAGE_SORTING,
    "MQWS": Category.ENVIRONMENT_HYGIENE, "门前卫生": Category.ENVIRONMENT_HYGIENE,
    "GYHD": Category.VOLUNTEERING, "公益活动": Category.VOLUNTEERING,
    "PAXL": Category.SAFETY_PATROL, "平安巡逻": Category.SAFETY_PATROL,
    "YSHY": Category.CIVIC_PARTICIPATION, "议事会议": Category.CIVIC_PARTICIPATION,
    "LLHZ": Category.MUTUAL_AID, "邻里互助": Category.MUTUAL_AID,
    "RYBZ": Category.HONORS, "荣誉表彰": Category.HONORS,
})

OPERATIONS = {"ADD": EventType.AWARDED, "SUB": EventType.DEDUCTED, "CX": EventType.REVOKED}


class LijiayuanMapper:
    platform = PLATFORM

    def map_record(self, record: NativeRecord) -> PointChange:
        fields = record.fields
        native_id = mapping.text(fields, "jfjl_id")
        operation = mapping.text(fields, "cz").upper()
        event_type = OPERATIONS.get(operation)
        if event_type is None:
            raise RecordRefused(QuarantineReason.BAD_RECORD,
                                f"operation cz={quoted(operation)} is not ADD, SUB or CX")
        id_number = mapping.id_number(mapping.required(fields, "sfzh"))
        occurred_at = mapping.shanghai_local_time(mapping.required(fields, "fssj"), TIME_PATTERN)
        if event_type is EventType.REVOKED:
            target = mapping.text(fields, "yjfjl_id")
            # The award decides category and points; jflx and jfz, if sent, are not trusted.
            return PointChange(native_id, id_number, event_type, Category.OTHER, 1, occurred_at,
                               revokes_native_id=target)
        category = CATEGORIES(mapping.required(fields, "jflx"))
        points = mapping.magnitude(mapping.required(fields, "jfz"))
        return PointChange(native_id, id_number, event_type, category, points, occurred_at)
