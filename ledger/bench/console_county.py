"""What the console's pages need beyond the county's residents, for `bench console`: the bench's
own staff with console passwords, gifts in stock at a branch, a few thousand refused events
spread over the months, and the simulation the default rule set was approved on.

Changes go through the service layer, audited like an administrator's; the refused events
through the ingestor, each batch received on a day of the history (its clock says so).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ledger.bench import county
from ledger.bench.audit_history import branch_code
from ledger.bench.county import Month
from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Status
from ledger.domain.verification import Delivery
from ledger.infra.db.models import Platform, Simulation
from ledger.service import access, administration
from ledger.service.access import Principal
from ledger.service.counter import catalog
from ledger.service.ingest import Ingestor

ACTOR = "bench-console"
BRANCH = branch_code(1)
TELLER = "bench.teller"
SUPERVISOR = "bench.supervisor"
AUDITOR = "bench.auditor"
RISK_OFFICER = "bench.risk"
ADMIN = "bench.admin"
STAFF = ((TELLER, "teller", BRANCH), (SUPERVISOR, "supervisor", BRANCH),
         (AUDITOR, "auditor", None), (RISK_OFFICER, "risk_officer", None),
         (ADMIN, "admin", None))
PASSWORD_BYTES = 18
# Cheap enough that nearly every resident can redeem, stocked for any number of redemptions.
GIFTS = (("RICE-5KG", "东北大米 5 公斤", 1), ("OIL-1L", "菜籽油 1 升", 2),
         ("TOWEL", "毛巾", 1), ("SOAP", "洗衣皂", 1), ("UMBRELLA", "雨伞", 3))
STOCK = 1_000_000
REJECTIONS_DEFAULT = 5000
REJECTION_SEED = 20261204
UNKNOWN_PLATFORM = "old_platform"
SKEW_S = 3600
CHANNEL = "amqp"
# What is left after these is a bad signature.
MALFORMED_SHARE = 0.15
SCHEMA_INVALID_SHARE = 0.30
UNKNOWN_PLATFORM_SHARE = 0.10
SKEWED_SHARE = 0.15
RESIDENTS_NAMED = 1000  # a refused event names a resident, whether or not they exist


@dataclass(frozen=True)
class Staff:
    passwords: dict[str, str]  # username → console password


def add_staff(ledger: Ledger) -> Staff:
    """The bench's own people, each with a fresh console password."""
    passwords = {}
    with ledger.sessions.begin() as session:
        for username, role, branch in STAFF:
            now = ledger.clock()
            administration.add_user(session, ACTOR, username, role, branch, None, now)
            passwords[username] = secrets.token_urlsafe(PASSWORD_BYTES)
            administration.set_password(session, ACTOR, username, passwords[username], now)
    return Staff(passwords)


def stock_gifts(ledger: Ledger) -> list[str]:
    """The gifts, in stock at the branch; their SKUs."""
    with ledger.sessions.begin() as session:
        user = access.user_of(session, ADMIN)
        admin = Principal(user.id, user.username, user.role, user.branch)
        for sku, name, cost in GIFTS:
            catalog.add_gift(session, admin, sku, name, cost, ledger.clock())
            catalog.set_stock(session, admin, BRANCH, sku, STOCK, "delivery for the bench",
                              ledger.clock())
    return [sku for sku, _, _ in GIFTS]


def platform_key(ledger: Ledger, platform: str) -> tuple[Ed25519PrivateKey, int]:
    """A new key of the platform for the run's events, and the platform's last seq."""
    with ledger.sessions.begin() as session:
        private_key, _ = administration.generate_key(session, ACTOR, platform, ledger.clock())
        row = session.get(Platform, platform)
        assert row is not None
        return private_key, row.last_seq


def refuse_events(ledger: Ledger, signer: EventSigner, platform: str, months: list[Month],
                  count: int = REJECTIONS_DEFAULT) -> int:
    """`count` refused events, about as many on each day of the history; how many were kept."""
    rng = random.Random(REJECTION_SEED)  # noqa: S311 (test data, not secrets)
    moment = _MovableClock(datetime.fromtimestamp(months[0].start_s, UTC))
    ingestor = Ingestor(ledger.sessions, ledger.settings.clock_skew_s,
                        ledger.settings.retired_key_grace_s, moment)
    first, last = months[0].start_s, months[-1].end_s
    days = max(1, (last - first) // 86_400)
    kept = 0
    for day in range(days):
        batch = count * (day + 1) // days - count * day // days
        if not batch:
            continue
        moment.now = datetime.fromtimestamp(first + day * 86_400 + rng.randrange(86_400), UTC)
        deliveries = [_refused_delivery(signer, platform, rng, moment.now, f"{day}-{n}")
                      for n in range(batch)]
        kept += sum(outcome.status is Status.REJECTED for outcome in ingestor.ingest(deliveries))
    return kept


class _MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _refused_delivery(signer: EventSigner, platform: str, rng: random.Random,
                      now: datetime, tag: str) -> Delivery:
    """One of the ways events are refused, in rough proportion to how often each happens:
    bodies cut short, fields out of the contract, a platform no longer registered, a clock
    running ahead, a body changed after it was signed."""
    event_id = f"refused-{tag}"
    draw = rng.random()
    if draw < MALFORMED_SHARE:
        return Delivery(b'{"event_id": "' + event_id.encode() + b'", "points": 3', {}, CHANNEL)
    resident = county.resident(rng.randrange(RESIDENTS_NAMED)).pseudonym
    event: dict[str, Any] = {
        "event_id": event_id, "platform": platform, "seq": 1, "type": "points.awarded",
        "category": "garbage_sorting", "resident": resident, "points": rng.randint(1, 5),
        "occurred_at": now.isoformat()}
    stamp = int(now.timestamp())
    draw -= MALFORMED_SHARE
    if draw < SCHEMA_INVALID_SHARE:
        event["points"] = -event["points"]
    elif draw < SCHEMA_INVALID_SHARE + UNKNOWN_PLATFORM_SHARE:
        event["platform"] = UNKNOWN_PLATFORM
    elif draw < SCHEMA_INVALID_SHARE + UNKNOWN_PLATFORM_SHARE + SKEWED_SHARE:
        stamp += SKEW_S
    else:
        signed = signer.sign(event, stamp)
        return Delivery(signed.body.replace(b'"points":', b'"points": '), signed.headers,
                        CHANNEL)
    signed = signer.sign(event, stamp)
    return Delivery(signed.body, signed.headers, CHANNEL)


def approved_simulation(ledger: Ledger) -> tuple[int, int]:
    """(version, simulation id) of the simulation the rule set in force was approved on."""
    with ledger.sessions() as session:
        row = session.scalars(select(Simulation).order_by(Simulation.id.desc()).limit(1)).one()
        return row.version, row.id
