"""One platform's part of the demo: native records → its adapter → the embedded ledger.

The adapter runs as in production (mapping, pseudonyms, `seq`, signatures, quarantine, the
outbox in `var/adapter-{platform}.sqlite3`, the pump publishing in `seq` order); only its
transport differs: the embedded ledger's API instead of RabbitMQ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask.testing import FlaskClient

from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox, default_outbox_url
from adapters.base.pump import OutboxPump
from adapters.base.transport import DirectTransport
from adapters.registry import adapter_module
from ledger.contract.signing import EventSigner
from ledger.demo.arrivals import ROUTES
from ledger.demo.batches import native_batch
from ledger.demo.delivery import LedgerPoster
from ledger.demo.scenario import DemoPlatform


@dataclass(frozen=True)
class PlatformRun:
    """What became of one platform's records, for the summary."""

    platform: DemoPlatform
    route: str
    records: int
    signed: int
    quarantined: Counter[str]  # by reason
    outcomes: Counter[str]  # the ledger's answers, deliberate mistakes included


@dataclass(frozen=True)
class Feed:
    """What every platform's run shares."""

    client: FlaskClient
    pepper: str
    clock: Callable[[], datetime]
    forger: EventSigner
    good: int
    bad: int


def run_platform(platform: DemoPlatform, signer: EventSigner, feed: Feed) -> PlatformRun:
    module = adapter_module(platform.code)
    outbox = Outbox(default_outbox_url(platform.code), platform.code)
    try:
        before = outbox.status()
        # Every record the outbox saw was either signed (a seq) or quarantined.
        seen = before["last_seq"] + before["quarantined"]
        records = native_batch(module, platform, seen, feed.good, feed.bad, feed.clock())
        intake = Intake(module.Mapper(), outbox, signer, feed.pepper, feed.clock)
        route = ROUTES[platform.code](module, records, intake, outbox)
        after = outbox.status()
        reasons = Counter(record.reason
                          for record in outbox.quarantine.records()[before["quarantined"]:])
        poster = LedgerPoster(feed.client)
        OutboxPump(outbox.events, DirectTransport(poster.deliver)).publish_pending()
        poster.deliver_again()
        poster.forge(feed.forger)
    finally:
        outbox.close()
    return PlatformRun(platform, route, len(records), after["last_seq"] - before["last_seq"],
                       reasons, poster.outcomes)
