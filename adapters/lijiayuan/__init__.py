"""沥家园 (Lijiayuan, Guali town): JSON webhooks with ADD / SUB / CX operations (SPEC §10)."""

from __future__ import annotations

from adapters.base.adapter import Source, SourceOptions
from adapters.base.http_source import HttpSource
from adapters.base.notices import NoticeSink, http_notice_sink
from adapters.base.outbox.database import Outbox
from adapters.lijiayuan import feed, simulator
from adapters.lijiayuan.mapping import CATEGORIES, PLATFORM, LijiayuanMapper
from ledger.contract.categories import EventType

NAME = "沥家园"
TOWNSHIP = "Guali"
KINDS = frozenset({EventType.AWARDED, EventType.DEDUCTED, EventType.REVOKED})
WEBHOOK_PATH = "/webhook"
Mapper = LijiayuanMapper
native_records = feed.native_records
payload = feed.payload
native_record = simulator.native_record
generate = simulator.generate


def make_source(options: SourceOptions, outbox: Outbox) -> Source:
    """Every adapter's make_source takes the outbox; a webhook receiver does not need it."""
    del outbox
    if options.listen is None:
        raise ValueError("lijiayuan receives webhooks: give --listen HOST:PORT")
    host, port = options.listen
    return HttpSource(PLATFORM, host, port, WEBHOOK_PATH, feed.native_records)


def make_notice_sink(options: SourceOptions) -> NoticeSink:
    """The platform takes the ledger's notices at an endpoint of its own."""
    return http_notice_sink(PLATFORM, options.notify_url)


__all__ = [
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
