"""Importing one file in chunks, each in its own outbox transaction, the file still once (SPEC §10).

A 50 MB export is hundreds of thousands of records. In one transaction it would hold the outbox's
write lock for minutes (the pump could neither read nor mark anything published) and every
record in memory. Instead the records are read as a stream and stored CHUNK_RECORDS at a time;
each chunk's transaction also saves where the next chunk starts and what the file came to so
far. An import interrupted anywhere (a crash, a stop, a failed chunk rolled back) resumes on the
next scan after the last chunk committed: no record is imported twice (and a record id seen
before would be recognized anyway), none is skipped, and the report counts each record once.
The file becomes "imported" (known by its digest) in one last transaction.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.base.intake import Intake, IntakeReport
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.imports import ImportProgress
from adapters.base.records import NativeRecord

# A few thousand records: a fraction of a second of the outbox's write lock each.
CHUNK_RECORDS = 2000
# The report lists the first quarantined records; `adapter quarantine` lists every one.
QUARANTINE_LISTED_MAX = 1000


@dataclass(frozen=True)
class FilePosition:
    """Where a line of a file starts: its byte offset and its line number."""

    offset: int
    line: int


@dataclass(frozen=True)
class FileRecord:
    """A record of a file, and where the line after it starts."""

    record: NativeRecord
    following: FilePosition


# Reads the file's records from its start (None) or from a position where a read left off.
ReadFrom = Callable[[FilePosition | None], Iterator[FileRecord]]


class ImportInterrupted(Exception):
    """The adapter is stopping: the file's import resumes where it stopped, next time."""


@dataclass
class FileTotals:
    """What the chunks committed so far came to."""

    accepted: int = 0
    duplicates: int = 0
    quarantined_total: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def add(self, report: IntakeReport) -> None:
        self.accepted += report.accepted
        self.duplicates += report.duplicates
        self.quarantined_total += len(report.quarantined)
        room = QUARANTINE_LISTED_MAX - len(self.quarantined)
        self.quarantined.extend(report.quarantined[:max(room, 0)])

    def document(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "quarantined_total": self.quarantined_total}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> FileTotals:
        return cls(int(document["accepted"]), int(document["duplicates"]),
                   int(document["quarantined_total"]), list(document["quarantined"]))


def import_in_chunks(outbox: Outbox, intake: Intake, digest: str, name: str,
                     read_from: ReadFrom, notify: Callable[[], None],
                     stop: threading.Event | None = None,
                     chunk_records: int = CHUNK_RECORDS) -> dict[str, Any]:
    """Import the file (or the rest of it) and return its report; raises ImportInterrupted
    when `stop` is set between chunks."""
    assert chunk_records > 0
    progress = outbox.imports.progress(digest)
    totals = FileTotals() if progress is None else FileTotals.from_document(progress.report)
    resume = None if progress is None else FilePosition(progress.resume_offset,
                                                        progress.resume_line)
    for chunk in _chunks(read_from(resume), chunk_records):
        following = chunk[-1].following
        with outbox.transaction() as transaction:
            report = intake.accept([item.record for item in chunk], within=transaction)
            totals.add(report)
            transaction.imports.save_progress(
                ImportProgress(digest, following.offset, following.line, totals.document()),
                name)
        if report.accepted:
            notify()  # the pump publishes this chunk while the next one is read
        if stop is not None and stop.is_set():
            raise ImportInterrupted(f"stopped before line {following.line}")
    document = {"file": name, "digest": digest, "already_imported": False,
                "imported_at": datetime.now(UTC).isoformat(), **totals.document()}
    if resume is not None:
        document["resumed_at_line"] = resume.line
    with outbox.transaction() as transaction:
        transaction.imports.record(digest, name, document)
    return document


def _chunks(items: Iterable[FileRecord], size: int) -> Iterator[list[FileRecord]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
