"""Realistic 沥家园 webhooks: garbage sorting most days, doorstep hygiene, volunteering, the odd
deduction (unsorted waste) and a revocation of a mistaken award."""

from __future__ import annotations

import random
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from adapters.base.mapping import SHANGHAI
from ledger.contract.categories import EventType
from ledger.contract.resident_id import synthetic_id_number

OPERATION = {EventType.AWARDED: "ADD", EventType.DEDUCTED: "SUB", EventType.REVOKED: "CX"}
# Category codes with their share of the records and typical points.
WEIGHTED_CODES = [("LJFL", 50, (1, 5)), ("MQWS", 20, (2, 5)), ("GYHD", 15, (5, 20)),
                  ("PAXL", 5, (5, 10)), ("YSHY", 5, (2, 5)), ("LLHZ", 4, (3, 10)),
                  ("RYBZ", 1, (20, 50))]
BAD_RECORDS: list[dict[str, Any]] = [
    {"sfzh": "330109199001011230"},  # wrong check character
    {"jflx": "XXJF"},  # no such category
    {"fssj": "2026-02-30 08:00:00"},  # no such day
    {"jfz": "五"},  # points in words
]


def native_record(native_id: str, id_number: str, category: str, points: object,
                  occurred_at: datetime | str, kind: EventType = EventType.AWARDED,
                  revokes: str | None = None) -> dict[str, Any]:
    when = occurred_at if isinstance(occurred_at, str) else \
        occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return {"jfjl_id": native_id, "sfzh": id_number, "jflx": category, "jfz": points,
            "fssj": when, "cz": OPERATION[kind], "yjfjl_id": revokes}


def generate(rng: random.Random, count: int, bad: int, now: datetime) -> list[dict[str, Any]]:
    residents = [synthetic_id_number(rng) for _ in range(max(1, count // 8))]
    codes = [code for code, _, _ in WEIGHTED_CODES]
    weights = [weight for _, weight, _ in WEIGHTED_CODES]
    points_range = {code: span for code, _, span in WEIGHTED_CODES}
    records: list[dict[str, Any]] = []
    awards: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        native_id = f"LJY{now:%Y%m%d}{number:06d}"
        when = now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 24 * 60))
        roll = rng.random()
        if roll < 0.02 and awards:
            target = rng.choice(awards)
            awards.remove(target)
            records.append(native_record(native_id, target["sfzh"], target["jflx"], target["jfz"],
                                         when, EventType.REVOKED, target["jfjl_id"]))
            continue
        code = rng.choices(codes, weights)[0]
        low, high = points_range[code]
        kind = EventType.DEDUCTED if roll < 0.08 and code == "LJFL" else EventType.AWARDED
        record = native_record(native_id, rng.choice(residents), code, rng.randint(low, high),
                               when, kind)
        records.append(record)
        if kind is EventType.AWARDED:
            awards.append(record)
    for number in range(bad):
        # A copy of a good record (never of an earlier broken one): one defect each.
        broken = dict(records[rng.randrange(count)]) if count else \
            native_record("x", residents[0], "LJFL", 1, now)
        broken.update(BAD_RECORDS[number % len(BAD_RECORDS)])
        broken["cz"] = "ADD"
        broken["jfjl_id"] = f"LJYBAD{number:04d}"
        records.append(broken)
    return records


def deliver(records: list[dict[str, Any]], url: str, batch: int = 50) -> None:
    """POST the records to the adapter's webhook, `batch` per request, as the platform does."""
    from adapters.lijiayuan.feed import payload

    for start in range(0, len(records), batch):
        request = urllib.request.Request(  # noqa: S310 (an http URL the operator gave)
            url, data=payload(records[start:start + batch]),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
