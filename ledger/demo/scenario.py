"""Realistic point events for the four township platforms of DOMAIN.md (demo data only).

ID numbers are synthetic (valid GB 11643 numbers of Xiaoshan district) and immediately replaced
by their pseudonyms; nothing here is a real person.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.contract.resident_id import pseudonym, synthetic_id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoPlatform:
    code: str
    name: str
    township: str
    # (category, points low, points high, memo) of the activities residents earn points for
    activities: tuple[tuple[str, int, int, str], ...]
    deductions: tuple[tuple[str, int, str], ...]


PLATFORMS = (
    DemoPlatform("lijiayuan", "沥家园", "瓜沥镇", (
        ("garbage_sorting", 2, 5, "垃圾分类 每日打卡"),
        ("environment_hygiene", 3, 8, "门前三包 检查合格"),
        ("volunteering", 10, 30, "志愿服务 小时"),
    ), (("garbage_sorting", 5, "垃圾分类 混投"),)),
    DemoPlatform("nanyang_young", "南阳young", "南阳街道", (
        ("civic_participation", 5, 15, "社区活动"),
        ("volunteering", 10, 25, "志愿服务"),
        ("safety_patrol", 10, 20, "平安巡逻"),
        ("knowledge_quiz", 2, 10, "知识竞赛"),
    ), (("civic_participation", 10, "活动缺席"),)),
    DemoPlatform("wuhe_zhonglian", "五和众联", "河上镇", (
        ("civic_participation", 5, 10, "村务议事"),
        ("mutual_aid", 10, 30, "邻里互助"),
        ("volunteering", 10, 20, "志愿服务"),
    ), (("mutual_aid", 10, "互助记录不实"),)),
    DemoPlatform("pingan_gongfu", "平安共富积分", "衙前镇", (
        ("safety_patrol", 10, 30, "平安巡逻"),
        ("volunteering", 5, 20, "公益活动"),
        ("safety_education", 1, 3, "安全视频"),
        ("knowledge_quiz", 2, 8, "安全知识答题"),
    ), (("safety_patrol", 20, "巡逻记录作废"),)),
)


@dataclass(frozen=True)
class PlannedEvent:
    """An event a platform will send, and what the demo expects to happen to it."""

    platform: str
    event: dict[str, Any]
    note: str = ""  # "duplicate" or "bad_signature" for the deliberate mistakes


def plan_events(pepper: str, first_seq: dict[str, int], count_per_platform: int,
                now: datetime, seed: int = 7) -> Iterator[PlannedEvent]:
    """Awards over the last months, some deductions, one revocation, one duplicate and one
    event signed with a wrong key, for every platform."""
    rng = random.Random(seed + sum(first_seq.values()))  # noqa: S311 - demo data, not security
    residents = [pseudonym(synthetic_id_number(rng), pepper) for _ in range(40)]
    for platform in PLATFORMS:
        seq = first_seq.get(platform.code, 1)
        sent: list[dict[str, Any]] = []
        for index in range(count_per_platform):
            moment = now.astimezone(SHANGHAI) - timedelta(minutes=rng.randrange(1, 180 * 24 * 60))
            event: dict[str, Any] = {
                "event_id": f"{platform.code}-{seq}",
                "platform": platform.code,
                "seq": seq,
                "resident": rng.choice(residents[:25] if index % 2 else residents),
                "occurred_at": moment.replace(microsecond=0).isoformat(),
                "source_ref": f"demo-{seq}",
            }
            if index % 17 == 16:
                category, points, memo = rng.choice(platform.deductions)
                event.update(type="points.deducted", category=category, points=points, memo=memo)
            else:
                category, low, high, memo = rng.choice(platform.activities)
                event.update(type="points.awarded", category=category,
                             points=rng.randint(low, high), memo=memo)
            yield PlannedEvent(platform.code, event)
            sent.append(event)
            seq += 1
        award = next(event for event in sent if event["type"] == "points.awarded")
        yield PlannedEvent(platform.code, {
            **{key: award[key] for key in ("platform", "resident", "category", "points")},
            "event_id": f"{platform.code}-{seq}", "seq": seq, "type": "points.revoked",
            "revokes": award["event_id"], "occurred_at": now.replace(microsecond=0).isoformat(),
            "memo": "记录撤销",
        })
        yield PlannedEvent(platform.code, sent[-1], note="duplicate")
        yield PlannedEvent(platform.code, {**sent[-2], "event_id": f"{platform.code}-forged",
                                           "seq": seq + 1, "points": 500}, note="bad_signature")
