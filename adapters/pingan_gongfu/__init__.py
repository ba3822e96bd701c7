"""平安共富积分 (Pingan Gongfu, Yaqian town): pushed JSON arrays of activity awards (SPEC §10)."""

from __future__ import annotations

from adapters.base.adapter import Source, SourceOptions
from adapters.base.http_source import HttpSource
from adapters.base.notices import NoticeSink, http_notice_sink
from adapters.base.outbox.database import Outbox
from adapters.pingan_gongfu import feed, simulator
from adapters.pingan_gongfu.mapping import CATEGORIES, PLATFORM, PinganGongfuMapper
from ledger.contract.categories import EventType

NAME = "平安共富积分"
TOWNSHIP = "Yaqian"
# Patrols, welfare work, safety videos and quizzes only ever earn points.
KINDS = frozenset({EventType.AWARDED})
ACTIVITIES_PATH = "/activities"
Mapper = PinganGongfuMapper
native_records = feed.native_records
payload = feed.payload
native_record = simulator.native_record
generate = simulator.generate


def make_source(options: SourceOptions, outbox: Outbox) -> Source:
    """The HTTP receiver of the platform's pushes. `outbox` is unused: every adapter's
    make_source takes it, so the runner can call them all alike."""
    del outbox
    if options.listen is None:
        raise ValueError("pingan_gongfu receives activity pushes: give --listen HOST:PORT")
    host, port = options.listen
    return HttpSource(PLATFORM, host, port, ACTIVITIES_PATH, feed.native_records)


def make_notice_sink(options: SourceOptions) -> NoticeSink:
    """The platform takes the ledger's notices at an endpoint of its own."""
    return http_notice_sink(PLATFORM, options.notify_url)


__all__ = [
    "ACTIVITIES_PATH",
    "CATEGORIES",
    "KINDS",
    "NAME",
    "PLATFORM",
    "TOWNSHIP",
    "Mapper",
    "generate",
    "make_notice_sink",
    "make_source",
    "native_record",
    "native_records",
    "payload",
]
