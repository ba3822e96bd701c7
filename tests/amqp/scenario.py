"""A realistic stream of signed events and what the ledger must hold once it has consumed them."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.contract.signing import SignedEvent
from ledger.infra.db.models import Balance
from tests.amqp.support import Published
from tests.support import PlatformFixture

RESIDENTS = tuple(f"{digit}" * 64 for digit in "abcdef")


@dataclass
class Scenario:
    messages: list[Published] = field(default_factory=list)
    valid_events: int = 0
    spendable: Counter[str] = field(default_factory=Counter)

    def balances_match(self, sessions: sessionmaker[Session], platform: str) -> bool:
        with sessions() as session:
            stored = dict(session.execute(
                select(Balance.resident, Balance.spendable).where(Balance.platform == platform)
            ).all())
        return stored == {resident: total for resident, total in self.spendable.items()}


def stream(platform: PlatformFixture, events: int, seed: int = 7) -> Scenario:
    """`events` awards and deductions over several residents, then one revocation, one event
    delivered twice and one message without signature headers (refused, kept)."""
    rng = random.Random(seed)
    scenario = Scenario()
    first_award: dict[str, object] | None = None
    for _ in range(events):
        resident = rng.choice(RESIDENTS)
        points = rng.randint(1, 40)
        event_type = "points.deducted" if rng.random() < 0.1 else "points.awarded"
        event = platform.event(type=event_type, resident=resident, points=points,
                               category=rng.choice(["garbage_sorting", "volunteering",
                                                    "safety_patrol"]))
        first_award = first_award or (event if event_type == "points.awarded" else None)
        scenario.messages.append(Published(event_type, platform.signed(event)))
        scenario.valid_events += 1
        scenario.spendable[resident] += points if event_type == "points.awarded" else -points
    assert first_award is not None
    revocation = platform.event(type="points.revoked", resident=first_award["resident"],
                                points=first_award["points"], category=first_award["category"],
                                revokes=first_award["event_id"])
    scenario.messages.append(Published("points.revoked", platform.signed(revocation)))
    scenario.valid_events += 1
    scenario.spendable[str(first_award["resident"])] -= int(str(first_award["points"]))
    scenario.messages.append(scenario.messages[len(scenario.messages) // 2])  # redelivered
    unsigned = platform.signed(platform.event())
    scenario.messages.append(Published("points.awarded",
                                       SignedEvent(unsigned.event_id, unsigned.body, {})))
    return scenario
