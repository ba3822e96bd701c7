"""五和众联 (Wuhe Zhonglian, Heshang town): a REST API polled with a cursor (SPEC §10)."""

from __future__ import annotations

from adapters.base.adapter import Source, SourceOptions
from adapters.base.notices import HttpNoticeSink, NoticeSink
from adapters.base.outbox.database import Outbox
from adapters.wuhe_zhonglian import feed, simulator
from adapters.wuhe_zhonglian.mapping import CATEGORIES, PLATFORM, WuheZhonglianMapper
from adapters.wuhe_zhonglian.poller import PollingSource
from ledger.contract.categories import EventType

NAME = "五和众联"
TOWNSHIP = "Heshang"
# A negative score is a deduction; the platform has no revocations.
KINDS = frozenset({EventType.AWARDED, EventType.DEDUCTED})
Mapper = WuheZhonglianMapper
native_records = feed.native_records
payload = feed.payload
native_record = simulator.native_record
generate = simulator.generate


def make_source(options: SourceOptions, outbox: Outbox) -> Source:
    if options.url is None:
        raise ValueError("wuhe_zhonglian polls the platform: give --url BASE")
    return PollingSource(options.url, options.interval_s, outbox)


def make_notice_sink(options: SourceOptions) -> NoticeSink:
    """The platform's API takes notices beside the points it serves: `BASE/api/notices`."""
    if options.notify_url is not None:
        return HttpNoticeSink(options.notify_url)
    if options.url is None:
        raise ValueError("wuhe_zhonglian delivers notices to its API: give --url BASE")
    return HttpNoticeSink(options.url.rstrip("/") + simulator.NOTICES_PATH)


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
