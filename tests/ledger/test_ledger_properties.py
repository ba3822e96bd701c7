"""Property: whatever platforms send, in whatever batches, the ledger agrees with a plain model.

Any interleaving of awards, deductions, revocations (valid and flawed) and re-deliveries, shuffled
and cut into random batches, gives exactly the outcomes, balances, monthly contributions and
per-platform seq tracking of a reference model written in plain Python below; the chain audits
intact and the ledger's own seq runs 1..n without a gap. SQLite only, for speed: the same code
runs on PostgreSQL in the example-based tests.
"""

from __future__ import annotations

import itertools
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.bootstrap import build
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.verification import Delivery
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.chain_audit import audit_chain
from tests.conftest import make_settings
from tests.ledger.helpers import balance, contributions, seq_tracking
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture, register_platform

PLATFORMS = ("lijiayuan", "pingan_gongfu")
RESIDENTS = (RESIDENT_A, RESIDENT_B)
CATEGORIES = ("garbage_sorting", "safety_patrol")
# (occurred_at, its Asia/Shanghai month)
MOMENTS = (
    ("2026-09-15T10:00:00+08:00", "2026-09"),
    ("2026-10-31T15:59:59Z", "2026-10"),
    ("2026-10-31T17:00:00Z", "2026-11"),
    ("2026-11-20T08:00:00+08:00", "2026-11"),
)
REVOKED_AT = "2026-11-21T09:00:00+08:00"
# "none" revokes a recent award as it should; "repeat" revokes again what the latest such
# revocation revoked; the others are each one way of getting it wrong.
FLAWS = ("none", "none", "none", "repeat", "not_an_award", "other_resident", "other_points",
         "other_category", "unknown_target", "other_platform")


@dataclass(frozen=True)
class Award:
    platform: int
    resident: int
    points: int
    category: int
    moment: int


@dataclass(frozen=True)
class Deduction:
    platform: int
    resident: int
    points: int
    category: int
    moment: int


@dataclass(frozen=True)
class Revocation:
    target: int  # how far back, among earlier deliveries that are not re-deliveries
    flaw: str


@dataclass(frozen=True)
class Redelivery:
    target: int  # how far back the delivery sent again byte for byte is


Operation = Award | Deduction | Revocation | Redelivery

platform_indexes = st.integers(0, len(PLATFORMS) - 1)
resident_indexes = st.integers(0, len(RESIDENTS) - 1)
category_indexes = st.integers(0, len(CATEGORIES) - 1)
moment_indexes = st.integers(0, len(MOMENTS) - 1)
awards = st.builds(Award, platform_indexes, resident_indexes, st.integers(1, 100),
                   category_indexes, moment_indexes)
deductions = st.builds(Deduction, platform_indexes, resident_indexes, st.integers(1, 100),
                       category_indexes, moment_indexes)
revocations = st.builds(Revocation, st.integers(0, 5), st.sampled_from(FLAWS))
redeliveries = st.builds(Redelivery, st.integers(0, 5))
operations = st.lists(st.one_of(awards, awards, deductions, revocations, revocations,
                                redeliveries),
                      min_size=8, max_size=30)


@dataclass(frozen=True)
class Sent:
    event: dict[str, Any]
    delivery: Delivery


def build_deliveries(operations: list[Operation],
                     platforms: list[PlatformFixture]) -> list[Sent]:
    """Each operation as a signed delivery; seqs are numbered per platform in operation order."""
    sent: list[Sent] = []
    originals: list[Sent] = []  # deliveries that are not re-deliveries
    last_revoked: dict[str, Any] | None = None
    for index, operation in enumerate(operations):
        if isinstance(operation, Redelivery):
            if originals:
                sent.append(originals[-1 - operation.target % len(originals)])
            continue
        if isinstance(operation, Revocation):
            target = _revocation_target(operation, originals, last_revoked)
            if target is None:
                continue
            if operation.flaw in ("none", "repeat"):
                last_revoked = target
            platform = _revoking_platform(operation, target, platforms)
            fields = _revocation_fields(operation, target)
        else:
            platform = platforms[operation.platform]
            fields = {
                "type": "points.awarded" if isinstance(operation, Award) else "points.deducted",
                "resident": RESIDENTS[operation.resident],
                "points": operation.points,
                "category": CATEGORIES[operation.category],
                "occurred_at": MOMENTS[operation.moment][0],
            }
        event = platform.event(event_id=f"{platform.code}-op{index}", **fields)
        one = Sent(event, platform.delivery(event))
        sent.append(one)
        originals.append(one)
    return sent


def _revocation_target(operation: Revocation, originals: list[Sent],
                       last_revoked: dict[str, Any] | None) -> dict[str, Any] | None:
    """A recent award, or for "not_an_award" a recent deduction or revocation."""
    if operation.flaw == "repeat" and last_revoked is not None:
        return last_revoked
    wanted = operation.flaw != "not_an_award"
    candidates = [one.event for one in originals
                  if (one.event["type"] == "points.awarded") == wanted]
    if not candidates:
        return None
    return candidates[-1 - operation.target % len(candidates)]


def _revoking_platform(operation: Revocation, target: dict[str, Any],
                       platforms: list[PlatformFixture]) -> PlatformFixture:
    code = target["platform"]
    if operation.flaw == "other_platform":
        code = next(other for other in PLATFORMS if other != code)
    return next(fixture for fixture in platforms if fixture.code == code)


def _revocation_fields(operation: Revocation, target: dict[str, Any]) -> dict[str, Any]:
    """The revocation restating its target, except for the one flaw it is meant to have."""
    fields: dict[str, Any] = {
        "type": "points.revoked",
        "revokes": target["event_id"],
        "resident": target["resident"],
        "points": target["points"],
        "category": target["category"],
        "occurred_at": REVOKED_AT,
    }
    if operation.flaw == "unknown_target":
        fields["revokes"] = "never-sent"
    elif operation.flaw == "other_points":
        fields["points"] += 1
    elif operation.flaw == "other_resident":
        fields["resident"] = next(other for other in RESIDENTS if other != target["resident"])
    elif operation.flaw == "other_category":
        fields["category"] = next(other for other in CATEGORIES if other != target["category"])
    return fields


def month_of(occurred_at: str) -> str:
    return dict(MOMENTS)[occurred_at]


@dataclass
class Model:
    """The ledger's rules for these events, as plainly as they can be written."""

    recorded: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    revoked: set[tuple[str, str]] = field(default_factory=set)
    seqs: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    balances: defaultdict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(
            ("earned", "deducted", "revoked", "redeemed", "spendable"), 0)))
    months: defaultdict[tuple[str, str, str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(
            ("awarded", "revoked", "deducted", "deductions"), 0)))

    def outcome(self, event: dict[str, Any]) -> tuple[Status, Reason | None]:
        platform, key = event["platform"], (event["platform"], event["event_id"])
        if key in self.recorded:
            same = self.recorded[key] == event
            return (Status.DUPLICATE, None) if same else (Status.REJECTED, Reason.ID_CONFLICT)
        if event["seq"] in self.seqs[platform]:
            return Status.REJECTED, Reason.SEQ_CONFLICT
        target = None
        if event["type"] == "points.revoked":
            target = self.recorded.get((platform, event["revokes"]))
            if target is None:
                return Status.REJECTED, Reason.UNKNOWN_REVOCATION_TARGET
            restated = all(target[name] == event[name]
                           for name in ("resident", "points", "category"))
            if target["type"] != "points.awarded" or not restated:
                return Status.REJECTED, Reason.REVOCATION_MISMATCH
            if (platform, event["revokes"]) in self.revoked:
                return Status.REJECTED, Reason.ALREADY_REVOKED
            self.revoked.add((platform, event["revokes"]))
        self._record(event, target)
        return Status.RECORDED, None

    def _record(self, event: dict[str, Any], target: dict[str, Any] | None) -> None:
        platform, points = event["platform"], event["points"]
        if event["seq"] < max(self.seqs[platform], default=0):
            hypothesis_event("a late event fills a gap")
        if target is not None:
            hypothesis_event("an award is revoked")
        self.recorded[(platform, event["event_id"])] = event
        self.seqs[platform].add(event["seq"])
        balance = self.balances[(event["resident"], platform)]
        counted = target or event  # a revocation counts in its award's month and category
        month = self.months[(event["resident"], platform, counted["category"],
                             month_of(counted["occurred_at"]))]
        if event["type"] == "points.awarded":
            balance["earned"] += points
            balance["spendable"] += points
            month["awarded"] += points
        elif event["type"] == "points.deducted":
            balance["deducted"] += points
            balance["spendable"] -= points
            month["deducted"] += points
            month["deductions"] += 1
        else:
            balance["revoked"] += points
            balance["spendable"] -= points
            month["revoked"] += points

    def gaps(self, platform: str) -> tuple[int, list[tuple[int, int]]]:
        seen = self.seqs[platform]
        last = max(seen, default=0)
        runs: list[tuple[int, int]] = []
        for seq in range(1, last + 1):
            if seq in seen:
                continue
            if runs and runs[-1][1] == seq - 1:
                runs[-1] = (runs[-1][0], seq)
            else:
                runs.append((seq, seq))
        return last, runs


def split(items: list[Sent], sizes: list[int]) -> list[list[Sent]]:
    """Consecutive batches whose sizes cycle through `sizes`."""
    batches: list[list[Sent]] = []
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(items):
            return batches
        batches.append(items[start:start + size])
        start += size
    raise AssertionError("unreachable")  # pragma: no cover


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(operations=operations, data=st.data())
def test_the_ledger_agrees_with_a_plain_model(
        sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
        operations: list[Operation], data: st.DataObject) -> None:
    directory = tmp_path_factory.mktemp("property")
    shutil.copyfile(sqlite_template, directory / "ledger.sqlite3")
    ledger = build(make_settings(f"sqlite:///{directory / 'ledger.sqlite3'}", tmp_path=directory))
    try:
        platforms = [register_platform(ledger.sessions, code) for code in PLATFORMS]
        sent = build_deliveries(operations, platforms)
        # Each delivery arrives up to a few places late: networks and outboxes reorder locally.
        delays = data.draw(st.lists(st.integers(0, 4), min_size=len(sent), max_size=len(sent)),
                           label="delays")
        shuffled = [sent[index] for index in
                    sorted(range(len(sent)), key=lambda index: index + delays[index])]
        sizes = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=6),
                          label="batch sizes")

        model = Model()
        expected = [model.outcome(one.event) for one in shuffled]
        outcomes: list[Outcome] = []
        for batch in split(shuffled, sizes):
            outcomes += ledger.ingestor.ingest([one.delivery for one in batch])

        assert [(outcome.status, outcome.reason) for outcome in outcomes] == expected
        for status, reason in set(expected):
            hypothesis_event(f"outcome {reason or status}")
        for (resident, platform), expected_balance in model.balances.items():
            assert balance(ledger, resident, platform) == expected_balance
        for resident in RESIDENTS:
            for code in PLATFORMS:
                if (resident, code) not in model.balances:
                    assert balance(ledger, resident, code)["spendable"] == 0
        assert {key: value for key, value in contributions(ledger).items()
                if any(value.values())} == \
            {key: value for key, value in model.months.items() if any(value.values())}
        for code in PLATFORMS:
            assert seq_tracking(ledger, code) == model.gaps(code)

        with ledger.sessions() as session:
            report = audit_chain(session)
            seqs = list(session.scalars(select(LedgerEntryRow.seq).order_by(LedgerEntryRow.seq)))
        assert report.intact, report.problem
        assert seqs == list(range(1, len(model.recorded) + 1))
        assert report.entries == len(model.recorded)
    finally:
        ledger.close()
