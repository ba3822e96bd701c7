"""A county for the rules pages: the four towns' platforms, residents whose points came in
through the ingestor (as a platform sends them), and the default rule set approved and active.

Under the default rule set (ledger.service.rules.default):
- RESIDENT_A (沥家园): garbage sorting 30 and safety patrols 40 × 2.0 in each of 5 months:
  score 550, 5 active months, no deduction: tier 3 of 5 (index 2), 50 000 CNY and 15 bp. The
  next tier (index 1) asks for 600 (50 short), 6 active months (1 short), no deduction (met).
- RESIDENT_B (沥家园): garbage sorting 30 in each of 2 months: score 60, tier index 4, nothing.
- RESIDENT_C (沥家园): garbage sorting 30 in each of 4 months: 120, tier index 3, 20 000 CNY.
- RESIDENT_D (南阳): safety patrols 40 × 2.0 in each of 2 months: 160, tier index 3, 20 000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.bootstrap import Ledger
from ledger.contract.resident_id import check_character, pseudonym
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Status
from ledger.service import registry
from ledger.service.rules import lifecycle, simulations
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.lifecycle import Actor
from tests.console.support import PLATFORM
from tests.support import TEST_PEPPER, PlatformFixture, register_platform

# Made-up ID numbers with a right check character (no real person's).
ID_NUMBER_A = "33010919700203004" + check_character("33010919700203004")
RESIDENT_A = pseudonym(ID_NUMBER_A, TEST_PEPPER)
RESIDENT_B = pseudonym("33010919810304005" + check_character("33010919810304005"),
                       TEST_PEPPER)
RESIDENT_C = pseudonym("33010919650708006" + check_character("33010919650708006"),
                       TEST_PEPPER)
RESIDENT_D = pseudonym("33010919920910007" + check_character("33010919920910007"),
                       TEST_PEPPER)
OTHER_TOWNS = (("nanyang_young", "南阳青年", "南阳街道"),
               ("wuhe_zhonglian", "五和众联", "义蓬街道"),
               ("pingan_gongfu", "平安共富", "益农镇"))
# The approved version's author and approver: the console's two risk officers.
FIRST_AUTHOR = Actor("qian.risk", "risk_officer")
FIRST_APPROVER = Actor("zhao.risk", "risk_officer")


@dataclass
class County:
    ledger: Ledger
    platforms: dict[str, PlatformFixture]
    active_version: int

    def send(self, code: str, resident: str, category: str, points: int,
             months_ago: int) -> None:
        platform = self.platforms[code]
        # 31 days a month back from an hour ago: a different calendar month each time, all
        # within the last 12 (Asia/Shanghai or not).
        moment = datetime.now(UTC) - timedelta(hours=1, days=31 * months_ago)
        event = platform.event(resident=resident, category=category, points=points,
                               occurred_at=moment.isoformat(timespec="seconds"))
        (outcome,) = self.ledger.ingestor.ingest([platform.delivery(event)])
        assert outcome.status is Status.RECORDED, outcome


def county(ledger: Ledger) -> County:
    """The county of the module's docstring, on a ledger with add_people's platform."""
    platforms = {PLATFORM: _keyed(ledger, PLATFORM)}
    for code, name, township in OTHER_TOWNS:
        platforms[code] = register_platform(ledger.sessions, code, name, township)
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        version = lifecycle.draft(session, FIRST_AUTHOR, DEFAULT_RULESET, "the bank's start",
                                  now)
        lifecycle.submit(session, FIRST_AUTHOR, version, "ready", now)
    simulations.simulate(ledger.sessions, FIRST_APPROVER, version, now)
    with ledger.sessions.begin() as session:
        lifecycle.approve(session, FIRST_APPROVER, version, "impact reviewed", now)
    seeded = County(ledger, platforms, version)
    for months_ago in range(5):
        seeded.send(PLATFORM, RESIDENT_A, "garbage_sorting", 30, months_ago)
        seeded.send(PLATFORM, RESIDENT_A, "safety_patrol", 40, months_ago)
    for months_ago in range(2):
        seeded.send(PLATFORM, RESIDENT_B, "garbage_sorting", 30, months_ago)
        seeded.send("nanyang_young", RESIDENT_D, "safety_patrol", 40, months_ago)
    for months_ago in range(4):
        seeded.send(PLATFORM, RESIDENT_C, "garbage_sorting", 30, months_ago)
    return seeded


def _keyed(ledger: Ledger, code: str) -> PlatformFixture:
    """A key for a platform registered without one (add_people's)."""
    with ledger.sessions.begin() as session:
        private_key, registered = registry.generate_key(session, code, datetime.now(UTC))
    return PlatformFixture(code, private_key, registered.key_id, EventSigner(private_key))
