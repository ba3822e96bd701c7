"""Realistic signed events for the benchmarks: many residents, every category, some deductions
and revocations, memos and native record ids, as a busy platform sends them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ledger.contract.categories import Category
from ledger.contract.resident_id import pseudonym, synthetic_id_number
from ledger.contract.signing import EventSigner, SignedEvent

RESIDENTS = 2000
DEDUCTION_SHARE = 0.05
REVOCATION_SHARE = 0.01
MEMO_SHARE = 0.3
POINTS_MAX = 50
HISTORY_DAYS = 180
CHINA = timezone(timedelta(hours=8))
MEMOS = ("垃圾分类 每周检查", "志愿服务 社区清洁", "平安巡逻 夜间", "知识竞赛 第三名", "门前三包")


@dataclass(frozen=True)
class BenchEvent:
    platform: str
    event_type: str
    signed: SignedEvent

    @property
    def routing_key(self) -> str:
        """`{platform}.{type}` (SPEC §5)."""
        return f"{self.platform}.{self.event_type}"


@dataclass(frozen=True)
class _Award:
    event_id: str
    resident: str
    category: str
    points: int


def signed_events(signer: EventSigner, platform: str, count: int, pepper: str,
                  seed: int = 20261122) -> list[BenchEvent]:
    """`count` valid events numbered 1…count; each revocation withdraws an earlier award."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    residents = [pseudonym(synthetic_id_number(rng), pepper) for _ in range(RESIDENTS)]
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    revocable: list[_Award] = []
    signed: list[BenchEvent] = []
    for seq in range(1, count + 1):
        event: dict[str, Any] = {
            "event_id": f"{platform}-{seq}",
            "platform": platform,
            "seq": seq,
            "occurred_at": (now - timedelta(minutes=rng.randrange(0, HISTORY_DAYS * 1440)))
            .astimezone(CHINA).replace(microsecond=0),
            "source_ref": f"JF{seq:010d}",
        }
        draw = rng.random()
        if draw < REVOCATION_SHARE and revocable:
            award = revocable.pop(rng.randrange(len(revocable)))
            event.update(type="points.revoked", resident=award.resident,
                         category=award.category, points=award.points, revokes=award.event_id)
        else:
            event.update(resident=rng.choice(residents), category=rng.choice(list(Category)).value,
                         points=rng.randint(1, POINTS_MAX))
            if draw < REVOCATION_SHARE + DEDUCTION_SHARE:
                event["type"] = "points.deducted"
            else:
                event["type"] = "points.awarded"
                revocable.append(_Award(event["event_id"], event["resident"], event["category"],
                                        event["points"]))
        if rng.random() < MEMO_SHARE:
            event["memo"] = rng.choice(MEMOS)
        signed.append(BenchEvent(platform, event["type"], signer.sign(event, timestamp)))
    return signed
