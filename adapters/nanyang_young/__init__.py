"""南阳young (Nanyang town): a daily GBK CSV export dropped into an inbox (SPEC §10)."""

from __future__ import annotations

from pathlib import Path

from adapters.base.adapter import Source, SourceOptions
from adapters.base.notices import DirectoryNoticeSink, NoticeSink
from adapters.base.outbox.database import Outbox
from adapters.base.retention import keep_days_from_environment
from adapters.nanyang_young import feed, simulator
from adapters.nanyang_young.inbox import InboxSource
from adapters.nanyang_young.mapping import CATEGORIES, PLATFORM, NanyangYoungMapper
from ledger.contract.categories import EventType

NAME = "南阳young"
TOWNSHIP = "Nanyang"
# Negative 积分 is a deduction; the platform never revokes a record.
KINDS = frozenset({EventType.AWARDED, EventType.DEDUCTED})
Mapper = NanyangYoungMapper
native_records = feed.native_records
payload = feed.payload
native_record = simulator.native_record
generate = simulator.generate


def make_source(options: SourceOptions, outbox: Outbox) -> Source:
    """Unlike a webhook adapter this one needs the outbox: it remembers there which files it
    imported, in the transaction that stores their records (every adapter's make_source takes
    `(options, outbox)` so the CLI can call them alike). A bad POINTSLEDGER_ADAPTER_KEEP_DAYS
    is a ValueError naming it: the adapter does not start."""
    if options.inbox is None:
        raise ValueError("nanyang_young imports files: give --inbox DIR")
    return InboxSource(options.inbox, options.interval_s, outbox, keep_days_from_environment())


def make_notice_sink(options: SourceOptions) -> NoticeSink:
    """The platform exchanges files: notices go to a daily GBK CSV it collects, by default in
    the `notices` directory beside the files it drops (never scanned as an import)."""
    if options.notices_dir is not None:
        return DirectoryNoticeSink(options.notices_dir)
    if options.inbox is None:
        raise ValueError("nanyang_young writes notices to files: give --notices-dir DIR")
    return DirectoryNoticeSink(Path(options.inbox) / "notices")


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
