"""The figures of a rule-set simulation (SPEC §8), tallied from residents' terms before and after.

Residents come in groups of equal terms (a database can count them so); a group's `residents`
is how many residents it stands for. Terms compare by limit uplift, then by rate discount.
The histogram buckets the change of uplift: residents whose uplift does not change have a
bucket of their own (`from_cny` = `to_cny` = 0); other changes fall in buckets
[from_cny, to_cny) of one width, a 1, 2 or 5 times a power of ten chosen so that the changes
span at most HISTOGRAM_BUCKETS_MAX buckets and the largest change is at most that many widths.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.scoring import MonthRow

HISTOGRAM_BUCKETS_MAX = 20
NICE_STEPS = (1, 2, 5)


def home_platform(platforms: Iterable[str], rows: Iterable[MonthRow],
                  months: Container[str]) -> str:
    """The platform a resident is counted under in a simulation's figures: of `platforms`
    (every platform they have an entry on), the one where they earned the most net points
    (awarded - revoked) in `months`, the candidate rule set's window; ties, and a resident who
    earned nothing there, go to the first of their platforms in alphabetical order.

    This is the rule's definition. The PostgreSQL statement of
    `ledger.service.rules.population` computes it in SQL, relying on a cell's net never being
    negative (the CHECK that revoked <= awarded); tests/rules/test_simulation.py holds that
    statement to this function resident by resident."""
    net = dict.fromkeys(platforms, 0)
    for row in rows:
        if row.month in months:
            net[row.platform] += row.awarded - row.revoked
    return min(net, key=lambda code: (-net[code], code))


@dataclass(frozen=True)
class TermsPair:
    uplift_before: int
    discount_before: int
    uplift_after: int
    discount_after: int

    @property
    def direction(self) -> int:
        """1 gaining, -1 losing, 0 unchanged."""
        before = (self.uplift_before, self.discount_before)
        after = (self.uplift_after, self.discount_after)
        return (after > before) - (after < before)


@dataclass
class _Group:
    residents: int = 0
    gaining: int = 0
    losing: int = 0
    exposure_before_cny: int = 0
    exposure_after_cny: int = 0

    def add(self, terms: TermsPair, residents: int) -> None:
        self.residents += residents
        if terms.direction > 0:
            self.gaining += residents
        elif terms.direction < 0:
            self.losing += residents
        self.exposure_before_cny += terms.uplift_before * residents
        self.exposure_after_cny += terms.uplift_after * residents


@dataclass
class ImpactTally:
    total: _Group = field(default_factory=_Group)
    by_platform: defaultdict[str, _Group] = field(default_factory=lambda: defaultdict(_Group))
    uplift_changes: Counter[int] = field(default_factory=Counter)

    def add(self, home_platform: str, terms: TermsPair, residents: int = 1) -> None:
        self.total.add(terms, residents)
        self.by_platform[home_platform].add(terms, residents)
        self.uplift_changes[terms.uplift_after - terms.uplift_before] += residents

    def figures(self) -> dict[str, Any]:
        total = self.total
        return {
            "residents": total.residents,
            "gaining": total.gaining,
            "losing": total.losing,
            "unchanged": total.residents - total.gaining - total.losing,
            "exposure_before_cny": total.exposure_before_cny,
            "exposure_after_cny": total.exposure_after_cny,
            "by_platform": {
                code: {"residents": group.residents, "gaining": group.gaining,
                       "losing": group.losing,
                       "exposure_before_cny": group.exposure_before_cny,
                       "exposure_after_cny": group.exposure_after_cny}
                for code, group in sorted(self.by_platform.items())},
            "histogram": histogram(self.uplift_changes),
        }


def histogram(changes: Counter[int]) -> list[dict[str, int]]:
    counted = {change: residents for change, residents in changes.items() if residents}
    moved = [change for change in counted if change != 0]
    buckets: Counter[int] = Counter()
    width = bucket_width(min(moved), max(moved)) if moved else 1
    for change in moved:
        buckets[(change // width) * width] += counted[change]
    rows = [{"from_cny": start, "to_cny": start + width, "residents": residents}
            for start, residents in buckets.items()]
    if 0 in counted:
        rows.append({"from_cny": 0, "to_cny": 0, "residents": counted[0]})
    return sorted(rows, key=lambda row: (row["from_cny"], row["to_cny"]))


def bucket_width(lowest: int, highest: int) -> int:
    """The smallest 1-2-5 width giving at most HISTOGRAM_BUCKETS_MAX buckets over the span,
    and no finer than the largest change needs (one change of 20 000 is [20 000, 21 000))."""
    largest = max(abs(lowest), abs(highest))
    power = 1
    while True:
        for step in NICE_STEPS:
            width = step * power
            if (width * HISTOGRAM_BUCKETS_MAX >= largest
                    and highest // width - lowest // width + 1 <= HISTOGRAM_BUCKETS_MAX):
                return width
        power *= 10
