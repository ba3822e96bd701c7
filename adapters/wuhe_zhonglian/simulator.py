"""Realistic 五和众联 data and a stand-in for its REST API.

Records: volunteering and mutual aid most, village meetings, patrols, clean-ups, the odd
deduction (a missed patrol shift). The server pages them by id behind a cursor, as the platform
does, and can be switched off (`down`) to exercise the poller's back-off.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request

from adapters.base.simulated_platform import UNAVAILABLE, SimulatedPlatform
from ledger.contract.categories import EventType
from ledger.contract.resident_id import synthetic_id_number

# Action codes with their share of the records and typical points.
WEIGHTED_ACTIONS = [("volunteer", 30, (5, 20)), ("mutual_aid", 20, (3, 10)),
                    ("village_meeting", 15, (2, 5)), ("patrol", 15, (5, 10)),
                    ("clean_up", 12, (2, 5)), ("sorting", 8, (1, 5))]
BAD_RECORDS: list[dict[str, Any]] = [
    {"idCard": "330109199001011230"},  # wrong check character
    {"action": "shopping"},  # no such action
    {"time": "2026-02-30 08:00:00"},  # text, not epoch milliseconds
    {"score": "五"},  # points in words
]


NOTICES_PATH = "/api/notices"


def native_record(native_id: str | int, id_number: str, category: str, points: object,
                  occurred_at: datetime | str, kind: EventType = EventType.AWARDED,
                  revokes: str | None = None) -> dict[str, Any]:
    """One API item. A text `occurred_at` is sent as is (to produce bad times); `revokes` is
    accepted for the simulators' common signature but the platform has no revocations."""
    del revokes
    when: object = occurred_at if isinstance(occurred_at, str) else \
        int(occurred_at.timestamp() * 1000)
    return {"id": native_id, "idCard": id_number, "action": category,
            "score": _signed(points, kind), "time": when}


def _signed(points: object, kind: EventType) -> object:
    """The platform sends a deduction as a negative score."""
    if kind is not EventType.DEDUCTED:
        return points
    if isinstance(points, int) and not isinstance(points, bool):
        return -abs(points)
    return f"-{points}"


def generate(rng: random.Random, count: int, bad: int, now: datetime) -> list[dict[str, Any]]:
    residents = [synthetic_id_number(rng) for _ in range(max(1, count // 8))]
    actions = [action for action, _, _ in WEIGHTED_ACTIONS]
    weights = [weight for _, weight, _ in WEIGHTED_ACTIONS]
    points_range = {action: span for action, _, span in WEIGHTED_ACTIONS}
    records: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        when = now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 24 * 60))
        action = rng.choices(actions, weights)[0]
        low, high = points_range[action]
        kind = EventType.DEDUCTED if action == "patrol" and rng.random() < 0.1 \
            else EventType.AWARDED
        records.append(native_record(number, rng.choice(residents), action,
                                     rng.randint(low, high), when, kind))
    for number in range(bad):
        # A copy of a good record (never of an earlier broken one): one defect each.
        broken = dict(records[rng.randrange(count)]) if count else \
            native_record(0, residents[0], "volunteer", 1, now)
        broken.update(BAD_RECORDS[number % len(BAD_RECORDS)])
        broken["id"] = count + 1 + number  # ids stay unique and increasing, as the API's are
        records.append(broken)
    return records


def id_order(native_id: object) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then any others in text order: the API's paging order."""
    text = str(native_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


class PlatformServer(SimulatedPlatform):
    """`GET /api/points?after=` in pages of `page_size`; `POST /api/notices` is recorded.

    `requested` lists every `after` asked for (None for a first poll), `down = True` answers
    503 to everything. `url` is the API's base.
    """

    def __init__(self, records: list[dict[str, Any]], host: str = "127.0.0.1", port: int = 0,
                 page_size: int = 100, on_notice: Callable[[Any], None] | None = None) -> None:
        self._records: list[dict[str, Any]] = []
        self._records_lock = threading.Lock()
        self.page_size = page_size
        self.requested: list[str | None] = []
        self.add(records)
        super().__init__(host, port, NOTICES_PATH, on_notice, "wuhe-zhonglian-simulator")
        self.url = self.base_url

    def add(self, records: list[dict[str, Any]]) -> None:
        with self._records_lock:
            self._records = sorted([*self._records, *records],
                                   key=lambda record: id_order(record.get("id")))

    def page(self, after: str | None) -> dict[str, Any]:
        with self._records_lock:
            newer = self._records if after is None else \
                [record for record in self._records if id_order(record.get("id")) > id_order(after)]
            items = newer[:self.page_size]
        following = str(items[-1]["id"]) if items else after
        return {"items": items, "next": following}

    def add_routes(self, app: Flask) -> None:
        @app.get("/api/points")
        def points() -> Response | tuple[str, int]:
            after = request.args.get("after")
            self.requested.append(after)
            if self.down:
                return UNAVAILABLE
            return jsonify(self.page(after))
