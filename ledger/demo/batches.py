"""This run's native records of one platform: the simulator's, plus the cases the demo must show.

A platform numbers its records on and on, and the adapter's outbox remembers every id it saw
(a known id is a retry, or a conflict when its content differs). So a demo run numbers its
records after everything the outbox has already seen, and running the demo again brings new
records rather than retries. The simulators number from 1 on every call, so the demo renumbers
their records (and the revocations' references) consistently.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from adapters.base.records import NativeRecord
from ledger.contract.categories import EventType
from ledger.demo.scenario import DemoPlatform

Record = dict[str, Any]

# The demo writes up to three records itself (see `_deliberate`); the simulator at least one.
GOOD_RECORDS_MIN = 4
# Placeholder ids of the demo's own records until the batch is numbered.
DEDUCTION_ID = "demo-deduction"
REVOKED_AWARD_ID = "demo-revoked-award"
REVOCATION_ID = "demo-revocation"


def deliberate_count(module: ModuleType) -> int:
    """How many of a platform's good records the demo writes itself (see `_deliberate`)."""
    return (EventType.DEDUCTED in module.KINDS) + 2 * (EventType.REVOKED in module.KINDS)


def native_batch(module: ModuleType, demo: DemoPlatform, seen: int, good: int, bad: int,
                 now: datetime) -> list[Record]:
    """`good` mappable records then `bad` ones to be quarantined, numbered after `seen`."""
    simulated = good - deliberate_count(module)
    if simulated < 1:
        raise ValueError(f"{demo.code} needs at least {deliberate_count(module) + 1} good "
                         "records: the demo's own, and one from the simulator")
    # Seeded by the platform and its history: each run repeatable, and unlike the one before.
    rng = random.Random(f"pointsledger demo {demo.code} {seen}")  # noqa: S311 - not security
    generated: list[Record] = module.generate(rng, simulated, bad, now)
    records = [*generated[:simulated], *_deliberate(module, demo, generated[0], now),
               *generated[simulated:]]
    return _numbered(records, demo, seen)


def _deliberate(module: ModuleType, demo: DemoPlatform, sample: Record,
                now: datetime) -> list[Record]:
    """A deduction, and an award revoked as a mistake, for the platforms that have them; both
    for a resident the simulator already gave points to."""
    resident = module.Mapper().map_record(NativeRecord("demo", "", sample)).id_number
    earlier = now - timedelta(days=1)
    records: list[Record] = []
    if EventType.DEDUCTED in module.KINDS:
        assert demo.deduction is not None, f"{demo.code} deducts: the demo needs a deduction"
        code, points = demo.deduction
        records.append(module.native_record(DEDUCTION_ID, resident, code, points, earlier,
                                            EventType.DEDUCTED))
    if EventType.REVOKED in module.KINDS:
        assert demo.revoked_award is not None, f"{demo.code} revokes: the demo needs an award"
        code, points = demo.revoked_award
        records.append(module.native_record(REVOKED_AWARD_ID, resident, code, points, earlier))
        # As the platform does, the revocation restates its award (the adapter trusts only
        # the award it stored).
        records.append(module.native_record(REVOCATION_ID, resident, code, points, now,
                                            EventType.REVOKED, REVOKED_AWARD_ID))
    return records


def _numbered(records: list[Record], demo: DemoPlatform, seen: int) -> list[Record]:
    """Each record gets the platform's next id in order; references follow their record."""
    new_ids = {record[demo.id_field]: demo.native_id(seen + number)
               for number, record in enumerate(records, start=1)}
    assert len(new_ids) == len(records), "the simulator repeated a record id"
    numbered = []
    for record in records:
        copy = {**record, demo.id_field: new_ids[record[demo.id_field]]}
        reference = demo.reference_field
        if reference is not None and copy.get(reference) is not None:
            copy[reference] = new_ids.get(copy[reference], copy[reference])
        numbered.append(copy)
    return numbered
