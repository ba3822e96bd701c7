"""Realistic 南阳young exports: garbage sorting most days, patrols, volunteering, quizzes, the
odd deduction (unsorted waste, an untidy doorstep), and files dropped into the inbox."""

from __future__ import annotations

import os
import random
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base.mapping import SHANGHAI
from adapters.nanyang_young.feed import payload
from ledger.contract.categories import EventType
from ledger.contract.resident_id import synthetic_id_number

# Labels with their share of the records and typical points.
WEIGHTED_LABELS = [("垃圾分类", 45, (1, 5)), ("环境卫生", 15, (2, 5)), ("志愿服务", 12, (5, 20)),
                   ("平安巡逻", 8, (5, 10)), ("知识竞赛", 6, (2, 10)), ("村务议事", 5, (2, 5)),
                   ("社区活动", 4, (5, 15)), ("邻里互助", 4, (3, 10)), ("表彰奖励", 1, (20, 50))]
# Only these are ever deducted (waste left unsorted, a doorstep not kept clean).
DEDUCTIBLE = {"垃圾分类", "环境卫生"}
NAMES = ["王建国", "李秀英", "张伟", "刘芳", "陈志强", "杨丽华", "赵小红", "黄海涛", "周桂兰",
         "吴明", "徐春梅", "孙德胜"]
DEDUCTION_MEMOS = ["未按规定分类", "门前堆放杂物", "检查不合格"]
BAD_RECORDS: list[dict[str, Any]] = [
    {"身份证号": "330109199001011230"},  # wrong check character
    {"积分类型": "线上签到"},  # no such category
    {"发生日期": "2026-02-30"},  # no such day
    {"积分": "五"},  # points in words
]


def native_record(native_id: str, id_number: str, category: str, points: object,
                  occurred_at: datetime | str, kind: EventType = EventType.AWARDED,
                  revokes: str | None = None) -> dict[str, Any]:
    """One export row. `revokes` is accepted for the adapters' common signature only: the
    platform has no revocations."""
    if kind is EventType.REVOKED or revokes is not None:
        raise ValueError("南阳young exports no revocations")
    when = occurred_at if isinstance(occurred_at, str) else \
        occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    deducted = kind is EventType.DEDUCTED
    if deducted and isinstance(points, int):
        points = -abs(points)
    return {"流水号": native_id, "身份证号": id_number, "姓名": _name(id_number),
            "积分类型": category, "积分": points, "发生日期": when,
            "备注": _memo(native_id) if deducted else ""}


def generate(rng: random.Random, count: int, bad: int, now: datetime) -> list[dict[str, Any]]:
    residents = [synthetic_id_number(rng) for _ in range(max(1, count // 8))]
    labels = [label for label, _, _ in WEIGHTED_LABELS]
    weights = [weight for _, weight, _ in WEIGHTED_LABELS]
    points_range = {label: span for label, _, span in WEIGHTED_LABELS}
    records: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        label = rng.choices(labels, weights)[0]
        low, high = points_range[label]
        kind = EventType.DEDUCTED if label in DEDUCTIBLE and rng.random() < 0.1 \
            else EventType.AWARDED
        records.append(native_record(f"NY{now:%Y%m%d}{number:06d}", rng.choice(residents),
                                     label, rng.randint(low, high), _day(rng, now), kind))
    for number in range(bad):
        # A copy of a good record (never of an earlier broken one): one defect each.
        broken = dict(records[rng.randrange(count)]) if count else \
            native_record("x", residents[0], "垃圾分类", 1, now - timedelta(days=1))
        broken.update(BAD_RECORDS[number % len(BAD_RECORDS)])
        broken["流水号"] = f"NYBAD{number:04d}"
        records.append(broken)
    return records


def drop(records: list[dict[str, Any]], directory: str | Path, name: str | None = None) -> Path:
    """Write the export into the inbox `directory` as the platform's job does, atomically: the
    inbox imports `*.csv` only, so it never sees the file half-written under its temporary name."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or f"nanyang-{datetime.now(SHANGHAI):%Y%m%d-%H%M%S}.csv")
    temporary = folder / f".{target.name}.{os.getpid()}.part"
    temporary.write_bytes(payload(records))
    os.replace(temporary, target)
    return target


def _day(rng: random.Random, now: datetime) -> str:
    """A day of the last 60 before today (a daily export is of days gone by). Staff who
    re-saved the file in Excel left slashes in some dates."""
    day = (now - timedelta(days=rng.randrange(1, 61))).astimezone(SHANGHAI)
    return day.strftime("%Y/%m/%d" if rng.random() < 0.1 else "%Y-%m-%d")


def _name(id_number: str) -> str:
    """A name that stays the same for one resident across records."""
    return NAMES[zlib.crc32(id_number.encode("utf-8")) % len(NAMES)]


def _memo(native_id: str) -> str:
    return DEDUCTION_MEMOS[zlib.crc32(native_id.encode("utf-8")) % len(DEDUCTION_MEMOS)]
