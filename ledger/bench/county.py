"""A made-up county for the benchmarks (SPEC §11): residents of the four platforms with 13 months
of contribution, drawn reproducibly from a seed.

Each resident has a home platform (some are active on a second one too), an engagement and the
month they joined. In each active month they earn points in their platform's categories, with
the shares and points of that platform's simulator in `adapters/` (沥家园: garbage sorting most
days; 平安共富积分: safety videos and quizzes, night patrols), and now and then a deduction or an
award that is later revoked.

Nothing per resident is kept from one month to the next: a resident's pseudonym and profile come
from a keyed hash of their number (`resident`), so that any resident can be drawn again, by the
fill and by the clients that later look them up. `population` writes the county into a ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from bisect import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import NamedTuple

from ledger.contract.categories import Category, EntryKind
from ledger.contract.resident_id import XIAOSHAN_REGION_CODE, check_character
from ledger.domain.scoring import SHANGHAI

# The default rule set's 12-month window, and one month before it that no window counts.
HISTORY_MONTHS = 13
SEED_DEFAULT = 20261122
# Entries are dated before the fill started, by at least this much: every answer counts them all.
NEWEST_ENTRY_AGE_S = 60
REVOCATION_DELAY_S_MIN = 3600
REVOCATION_DELAY_S_MAX = 3 * 86_400
RECORDING_DELAY_S_MAX = 1800
DEDUCTION_SHARE = 0.03
REVOCATION_SHARE = 0.015
SECOND_PLATFORM_SHARE = 0.15  # of residents, active on a second platform too
SECOND_PLATFORM_EVENT_SHARE = 0.3  # of such a resident's events, on that platform
FROM_START_SHARE = 0.6  # of residents, who were there before the first month
PSEUDONYM_BYTES = 32
BIRTH_DAY_FIRST = date(1950, 1, 1)
BIRTH_DAYS = 20_000  # to 2004



@dataclass(frozen=True)
class Activity:
    category: str  # a Category's value: read once per event, an enum member's value is slower
    share: int
    points_min: int
    points_max: int


@dataclass(frozen=True)
class PlatformProfile:
    code: str
    name: str
    township: str
    event_id_prefix: str
    residents_share: float
    activities: tuple[Activity, ...]
    deducted: Activity | None  # what this platform deducts for (share unused), if it does

    @property
    def cumulative_shares(self) -> list[float]:
        total = sum(activity.share for activity in self.activities)
        return [share / total for share in accumulate(a.share for a in self.activities)]


def _activity(category: Category, share: int, points_min: int, points_max: int) -> Activity:
    return Activity(category.value, share, points_min, points_max)


_C = Category
# Shares and points as the adapters' simulators send them (adapters/*/simulator.py).
PLATFORMS = (
    PlatformProfile("lijiayuan", "沥家园", "瓜沥镇", "LJY", 0.30, (
        _activity(_C.GARBAGE_SORTING, 50, 1, 5), _activity(_C.ENVIRONMENT_HYGIENE, 20, 2, 5),
        _activity(_C.VOLUNTEERING, 15, 5, 20), _activity(_C.SAFETY_PATROL, 5, 5, 10),
        _activity(_C.CIVIC_PARTICIPATION, 5, 2, 5), _activity(_C.MUTUAL_AID, 4, 3, 10),
        _activity(_C.HONORS, 1, 20, 50)), _activity(_C.GARBAGE_SORTING, 0, 2, 10)),
    PlatformProfile("nanyang_young", "南阳young", "南阳街道", "NY", 0.25, (
        _activity(_C.GARBAGE_SORTING, 45, 1, 5), _activity(_C.ENVIRONMENT_HYGIENE, 15, 2, 5),
        _activity(_C.VOLUNTEERING, 12, 5, 20), _activity(_C.SAFETY_PATROL, 8, 5, 10),
        _activity(_C.KNOWLEDGE_QUIZ, 6, 2, 10), _activity(_C.CIVIC_PARTICIPATION, 9, 2, 15),
        _activity(_C.MUTUAL_AID, 4, 3, 10), _activity(_C.HONORS, 1, 20, 50)),
        _activity(_C.ENVIRONMENT_HYGIENE, 0, 2, 10)),
    PlatformProfile("wuhe_zhonglian", "五和众联", "河上镇", "WHZL", 0.25, (
        _activity(_C.VOLUNTEERING, 30, 5, 20), _activity(_C.MUTUAL_AID, 20, 3, 10),
        _activity(_C.CIVIC_PARTICIPATION, 15, 2, 5), _activity(_C.SAFETY_PATROL, 15, 5, 10),
        _activity(_C.ENVIRONMENT_HYGIENE, 12, 2, 5), _activity(_C.GARBAGE_SORTING, 8, 1, 5)),
        _activity(_C.SAFETY_PATROL, 0, 5, 10)),
    PlatformProfile("pingan_gongfu", "平安共富积分", "衙前镇", "PAGF", 0.20, (
        _activity(_C.SAFETY_EDUCATION, 40, 1, 2), _activity(_C.KNOWLEDGE_QUIZ, 30, 1, 5),
        _activity(_C.SAFETY_PATROL, 20, 5, 10), _activity(_C.VOLUNTEERING, 10, 5, 20)), None),
)


@dataclass(frozen=True)
class Engagement:
    share: float
    active_month_chance: float
    events_min: int  # in an active month
    events_max: int


# Most residents take part now and then; a few sort their garbage and patrol every week.
ENGAGEMENTS = (Engagement(0.50, 0.30, 1, 2), Engagement(0.35, 0.70, 2, 6),
               Engagement(0.15, 0.95, 6, 14))


def _byte_thresholds(shares: list[float]) -> list[int]:
    """Cumulative shares as thresholds over one byte (0-255) of a resident's hash."""
    return [round(256 * share) for share in accumulate(shares)][:-1]


_PLATFORM_THRESHOLDS = _byte_thresholds([platform.residents_share for platform in PLATFORMS])
_ENGAGEMENT_THRESHOLDS = _byte_thresholds([engagement.share for engagement in ENGAGEMENTS])
_SECOND_PLATFORM_BYTE = round(256 * SECOND_PLATFORM_SHARE)
_FROM_START_BYTE = round(256 * FROM_START_SHARE)
_CUMULATIVE = [platform.cumulative_shares for platform in PLATFORMS]


class Resident(NamedTuple):
    """(A named tuple: one is made per resident and month, and a dataclass takes longer.)"""

    pseudonym: str
    engagement: Engagement
    home: int  # index into PLATFORMS
    second: int | None
    joined: int  # index of their first month


def resident(number: int, seed: int = SEED_DEFAULT, pepper: str | None = None) -> Resident:
    """Resident `number`, the same in every month and every run with `seed`: a pseudonym of
    64 hex digits as random as a real one (32 bytes of a keyed hash), and a profile from
    four more bytes of it. With the ledger's `pepper`, the pseudonym is the real one of the
    resident's ID number (`id_number_of`), so that a page can look the resident up by it."""
    digest = hashlib.blake2b(number.to_bytes(8, "big"), digest_size=PSEUDONYM_BYTES + 4,
                             key=seed.to_bytes(8, "big")).digest()
    profile = digest[PSEUDONYM_BYTES:]
    pseudonym = (digest[:PSEUDONYM_BYTES].hex() if pepper is None
                 else hmac.new(pepper.encode("utf-8"), id_number_of(number).encode("ascii"),
                               hashlib.sha256).hexdigest())
    home = bisect(_PLATFORM_THRESHOLDS, profile[1])
    second = ((home + 1 + profile[2] % (len(PLATFORMS) - 1)) % len(PLATFORMS)
              if profile[2] < _SECOND_PLATFORM_BYTE else None)
    joined = 0 if profile[3] < _FROM_START_BYTE else profile[3] % HISTORY_MONTHS
    return Resident(pseudonym, ENGAGEMENTS[bisect(_ENGAGEMENT_THRESHOLDS, profile[0])], home,
                    second, joined)


def id_number_of(number: int) -> str:
    """A valid, made-up ID number of Xiaoshan for resident `number` (one for each of the first
    BIRTH_DAYS × 1000 numbers): born on one of BIRTH_DAYS days from 1950, sequence code next."""
    birth = BIRTH_DAY_FIRST + timedelta(days=number % BIRTH_DAYS)
    first_seventeen = f"{XIAOSHAN_REGION_CODE}{birth:%Y%m%d}{number // BIRTH_DAYS % 1000:03d}"
    return first_seventeen + check_character(first_seventeen)


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM, Asia/Shanghai
    start_s: int  # POSIX seconds
    end_s: int


def history(now: datetime, months: int = HISTORY_MONTHS) -> list[Month]:
    """The `months` Shanghai calendar months ending with the month of `now`, oldest first; the
    current one ends NEWEST_ENTRY_AGE_S before now."""
    local = now.astimezone(SHANGHAI)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    starts.reverse()
    ends = [int(start.timestamp()) for start in starts[1:]]
    # A minute into a month, its entries are that minute's.
    ends.append(max(int(now.timestamp()) - NEWEST_ENTRY_AGE_S, int(first.timestamp()) + 1))
    return [Month(f"{start:%Y-%m}", int(start.timestamp()), end)
            for start, end in zip(starts, ends, strict=True)]


# An event: (recorded_s, occurred_s, kind, platform index, category, signed points, resident,
# event_id, event_id revoked or None): one month's entries are held as such tuples, sorted once.
Event = tuple[int, int, str, int, str, int, str, str, str | None]
_Cells = dict[tuple[int, str], list[int]]  # (platform, category) → awarded, revoked, deducted, n

_AWARDED = EntryKind.AWARDED.value
_DEDUCTED = EntryKind.DEDUCTED.value
_REVOKED = EntryKind.REVOKED.value


class MonthGenerator:
    """One resident-month after another, from one random stream (the fill is reproducible)."""

    def __init__(self, seed: int, newest_s: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        # The entries' moments from a stream of their own: with or without entries, a seed
        # gives the same monthly rows.
        self._moments = random.Random(seed + 1)  # noqa: S311
        self._event_numbers = [0] * len(PLATFORMS)
        self._newest_s = newest_s

    def cells(self, who: Resident, month_index: int, month: Month,
              events: list[Event] | None) -> _Cells:
        """The resident's monthly sums, and (into `events`) the entries behind them."""
        rng = self._rng
        engagement = who.engagement
        cells: _Cells = {}
        if month_index < who.joined or (
                month_index > who.joined and rng.random() >= engagement.active_month_chance):
            return cells
        count = engagement.events_min + int(
            rng.random() * (engagement.events_max - engagement.events_min + 1))
        span_s = month.end_s - month.start_s
        for _ in range(count):
            platform = who.home
            if who.second is not None and rng.random() < SECOND_PLATFORM_EVENT_SHARE:
                platform = who.second
            profile = PLATFORMS[platform]
            roll = rng.random()
            if roll < DEDUCTION_SHARE and profile.deducted is not None:
                activity, kind = profile.deducted, _DEDUCTED
            else:
                activity = profile.activities[bisect(_CUMULATIVE[platform], rng.random())]
                kind = _REVOKED if roll < DEDUCTION_SHARE + REVOCATION_SHARE else _AWARDED
            points = activity.points_min + int(
                rng.random() * (activity.points_max - activity.points_min + 1))
            cell = cells.setdefault((platform, activity.category), [0, 0, 0, 0])
            if kind == _DEDUCTED:
                cell[2] += points
                cell[3] += 1
            else:
                cell[0] += points
                if kind == _REVOKED:
                    cell[1] += points
            if events is not None:
                self._add_events(events, who, platform, activity.category, kind, points,
                                 month.start_s + int(self._moments.random() * span_s))
        return cells

    def _add_events(self, events: list[Event], who: Resident, platform: int, category: str,
                    kind: str, points: int, occurred_s: int) -> None:
        """The entry (an award revoked later: the award and its revocation)."""
        rng = self._moments
        recorded_s = min(occurred_s + int(rng.random() * RECORDING_DELAY_S_MAX), self._newest_s)
        event_id = self._event_id(platform)
        if kind == _DEDUCTED:
            events.append((recorded_s, occurred_s, kind, platform, category, -points,
                           who.pseudonym, event_id, None))
            return
        events.append((recorded_s, occurred_s, _AWARDED, platform, category, points,
                       who.pseudonym, event_id, None))
        if kind == _REVOKED:
            delay_s = REVOCATION_DELAY_S_MIN + int(
                rng.random() * (REVOCATION_DELAY_S_MAX - REVOCATION_DELAY_S_MIN))
            revoked_s = min(occurred_s + delay_s, self._newest_s)
            # Recorded after the award, even when both are held back to the newest moment.
            events.append((max(revoked_s, recorded_s), revoked_s, _REVOKED, platform, category,
                           -points, who.pseudonym, self._event_id(platform), event_id))

    def _event_id(self, platform: int) -> str:
        self._event_numbers[platform] += 1
        return f"{PLATFORMS[platform].event_id_prefix}{self._event_numbers[platform]:010d}"
