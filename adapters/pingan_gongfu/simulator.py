"""Realistic 平安共富积分 pushes: many safety videos and quizzes worth a point or few, evening
patrols (19:00–23:00) worth more, and the occasional welfare activity worth the most."""

from __future__ import annotations

import random
import urllib.request
from datetime import date, datetime, time, timedelta
from typing import Any

from adapters.base.mapping import SHANGHAI
from ledger.contract.categories import EventType
from ledger.contract.resident_id import synthetic_id_number

# Activity types with their share of the records, typical points and the hours they happen in
# (Shanghai time, [start, end)): patrols are night patrols, the rest happen in the daytime.
WEIGHTED_TYPES = [("VIDEO", 40, (1, 2), (8, 22)), ("QUIZ", 30, (1, 5), (8, 22)),
                  ("PATROL", 20, (5, 10), (19, 23)), ("WELFARE", 10, (5, 20), (8, 18))]
HISTORY_DAYS = 60
BAD_RECORDS: list[dict[str, Any]] = [
    {"participant": {"idNo": "330109199001011230"}},  # wrong check character
    {"activityType": "DANCE"},  # the platform has no such activity
    {"at": "2026-10-01T08:00:00"},  # no offset: the moment is unknown
    {"earned": "十"},  # points in words
]


def native_record(native_id: str, id_number: str, category: str, points: object,
                  occurred_at: datetime | str, kind: EventType = EventType.AWARDED,
                  revokes: str | None = None) -> dict[str, Any]:
    """One activity record. A str `occurred_at` and any `points` are sent as given, so tests can
    send broken ones; an (aware) datetime is sent as Shanghai time with its +08:00 offset."""
    if kind is not EventType.AWARDED or revokes is not None:
        raise ValueError("pingan_gongfu only awards points: no deductions or revocations")
    when = occurred_at if isinstance(occurred_at, str) else \
        occurred_at.astimezone(SHANGHAI).isoformat(timespec="seconds")
    return {"activityId": native_id, "activityType": category,
            "participant": {"idNo": id_number}, "earned": points, "at": when}


def _moment(rng: random.Random, today: date, hours: tuple[int, int]) -> datetime:
    """A time within `hours` on one of the last HISTORY_DAYS days before today (never today, so
    never in the future)."""
    day = today - timedelta(days=rng.randint(1, HISTORY_DAYS))
    start, end = hours
    minute = rng.randrange(start * 60, end * 60)
    clock = time(minute // 60, minute % 60, rng.randrange(0, 60))
    return datetime.combine(day, clock, tzinfo=SHANGHAI)


def _broken(rng: random.Random, records: list[dict[str, Any]], number: int,
            fallback: dict[str, Any]) -> dict[str, Any]:
    """A copy of a good record (or `fallback`) with one field broken, under its own id."""
    broken = dict(rng.choice(records)) if records else dict(fallback)
    broken.update(BAD_RECORDS[number % len(BAD_RECORDS)])
    broken["activityId"] = f"PAGFBAD{number:04d}"
    return broken


def generate(rng: random.Random, count: int, bad: int, now: datetime) -> list[dict[str, Any]]:
    """`count` good records from a shared pool of residents, then `bad` broken ones."""
    residents = [synthetic_id_number(rng) for _ in range(max(1, count // 8))]
    types = [code for code, _, _, _ in WEIGHTED_TYPES]
    weights = [weight for _, weight, _, _ in WEIGHTED_TYPES]
    spans = {code: (points, hours) for code, _, points, hours in WEIGHTED_TYPES}
    today = now.astimezone(SHANGHAI).date()
    records: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        code = rng.choices(types, weights)[0]
        (low, high), hours = spans[code]
        records.append(native_record(f"PAGF{now:%Y%m%d}{number:06d}", rng.choice(residents),
                                     code, rng.randint(low, high), _moment(rng, today, hours)))
    fallback = native_record("x", residents[0], "VIDEO", 1, _moment(rng, today, (8, 22)))
    return records + [_broken(rng, records, number, fallback) for number in range(bad)]


def deliver(records: list[dict[str, Any]], url: str, batch: int = 100) -> None:
    """POST the records to the adapter's /activities, `batch` per array, as the platform does."""
    from adapters.pingan_gongfu.feed import payload

    for start in range(0, len(records), batch):
        request = urllib.request.Request(  # noqa: S310 (an http URL the operator gave)
            url, data=payload(records[start:start + batch]),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
