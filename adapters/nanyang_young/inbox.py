"""A Source that imports the CSV files dropped into an inbox directory, each file once.

Every `interval_s` each `*.csv` in the directory is imported, oldest name first. A file is
known by the SHA-256 of its bytes, so a file dropped again (under any name) is recognized and
not imported twice. A file is read as a stream and stored in chunks (adapters.base.file_import):
the pump publishes while it is read, and an import interrupted anywhere resumes after its last
committed chunk.

Next to each file the inbox writes `<name>.report.json` (what became of every record, ID
numbers masked) and moves the file into `imported/`, where it is deleted after
POINTSLEDGER_ADAPTER_KEEP_DAYS. Files must appear whole, by a rename into the directory (as
`simulator.drop` does): a file still being copied under its `.csv` name would be read
half-written.

The inbox is untrusted ground (adapters.base.drop_directory): only regular files are read, never
through a link. A `*.csv` that is not a regular file, cannot be opened, or whose name is not
UTF-8 is quarantined unread and moved into `imported/`, so it is reported once, not at every
scan. An `imported` that is not a real directory stops all imports until it is one. Names in
log lines are quoted and escaped, ID numbers masked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from adapters.base.adapter import Notify
from adapters.base.drop_directory import (
    DropDirectory,
    Entry,
    ImportedNotADirectory,
    NotRegularFile,
    kind_of,
)
from adapters.base.failures import described, is_transient
from adapters.base.file_import import (
    CHUNK_RECORDS,
    FilePosition,
    ImportInterrupted,
    import_in_chunks,
)
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.records import NativeRecord
from adapters.base.redaction import quoted
from adapters.base.retention import KEEP_DAYS_DEFAULT
from adapters.nanyang_young.feed import read_export
from ledger.contract.personal_data import mask_id_numbers

log = logging.getLogger(__name__)

IMPORTED = "imported"
SUFFIX = b".csv"
REPORT_SUFFIX = ".report.json"
DIGEST_BLOCK_BYTES = 1 << 20
NOT_READ = "(not read)"


class InboxSource:
    def __init__(self, directory: str | Path, interval_s: float, outbox: Outbox,
                 keep_days: int = KEEP_DAYS_DEFAULT, chunk_records: int = CHUNK_RECORDS) -> None:
        self.directory = Path(directory)
        self._interval_s = interval_s
        self._outbox = outbox
        self._keep_days = keep_days
        self._chunk_records = chunk_records
        self._problem: str | None = None  # the scan's problem last logged, to log each once

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log.info("adapter %s imports *.csv from %s every %ss, keeps imported files %d days",
                 intake.platform, self.directory, self._interval_s, self._keep_days)
        while True:
            self.scan(intake, notify, stop)
            if stop.wait(self._interval_s):
                return

    def scan(self, intake: Intake, notify: Notify, stop: threading.Event | None = None) -> None:
        """Import every file waiting in the directory, then delete expired imported files.

        What may pass (the outbox busy, the inbox unreachable, `imported/` not a directory) is
        logged once and tried again at the next scan; anything else is raised, and stops the
        adapter."""
        try:
            with DropDirectory(self.directory, IMPORTED) as inbox:
                for entry in inbox.entries(SUFFIX):
                    if stop is not None and stop.is_set():
                        return
                    self._take(inbox, entry, intake, notify, stop)
                for deleted in inbox.delete_imported_older_than(self._keep_days):
                    log.info("deleted %s from %s/: imported more than %d days ago",
                             deleted.shown, IMPORTED, self._keep_days)
        except ImportInterrupted:
            return
        except ImportedNotADirectory as error:
            self._note_problem(str(error), logging.ERROR)
            return
        except OSError as error:
            self._note_problem(f"the inbox {self.directory} cannot be used ({error.strerror})",
                               logging.WARNING)
            return
        except SQLAlchemyError as error:
            if not is_transient(error):
                raise
            self._note_problem(f"the outbox is busy ({described(error)}); the import resumes at "
                               "the next scan", logging.WARNING)
            return
        if self._problem is not None:
            log.info("the inbox is usable again")
            self._problem = None

    def import_file(self, path: Path, intake: Intake, notify: Notify | None = None) -> bool:
        """Import one file of the inbox now (or recognize it), report on it, move it away;
        True when records were accepted."""
        if path.parent.resolve() != self.directory.resolve():
            raise ValueError(f"{path} is not in the inbox {self.directory}")
        with DropDirectory(self.directory, IMPORTED) as inbox:
            (entry,) = [found for found in inbox.entries(SUFFIX)
                        if found.name == bytes(path.name, "utf-8")]
            return self._take(inbox, entry, intake, notify or _nothing, None)

    def _take(self, inbox: DropDirectory, entry: Entry, intake: Intake, notify: Notify,
              stop: threading.Event | None) -> bool:
        if entry.text is None:
            return self._refuse(inbox, entry, intake, "the file name is not valid UTF-8")
        try:
            looked_at = inbox.lstat(entry)
        except FileNotFoundError:  # taken away since the directory was listed
            return False
        if not stat.S_ISREG(looked_at.st_mode):
            return self._refuse(inbox, entry, intake,
                                f"it is {kind_of(looked_at.st_mode)}, not a regular file")
        try:
            stream = inbox.open_regular(entry, looked_at)
        except NotRegularFile as error:
            return self._refuse(inbox, entry, intake, f"it is {error}, not a regular file")
        except OSError as error:
            return self._refuse(inbox, entry, intake, f"it cannot be opened ({error.strerror})")
        with stream:
            report = self._import(stream, entry.text, intake, notify, stop)
        self._finish(inbox, entry, report)
        return bool(report.get("accepted"))

    def _import(self, stream: BinaryIO, name: str, intake: Intake, notify: Notify,
                stop: threading.Event | None) -> dict[str, Any]:
        digest = _sha256(stream)
        first = self._outbox.imports.report(digest)
        if first is not None:
            log.info("%s was imported before as %s", quoted(name), quoted(first.get("file")))
            return _already_imported(name, digest, first)

        def read_from(resume: FilePosition | None) -> Any:
            return read_export(stream, name, resume)

        report = import_in_chunks(self._outbox, intake, digest, name, read_from, notify, stop,
                                  self._chunk_records)
        log.info("imported %s: %d accepted, %d duplicates, %d quarantined", quoted(name),
                 report["accepted"], report["duplicates"], report["quarantined_total"])
        return report

    def _refuse(self, inbox: DropDirectory, entry: Entry, intake: Intake, why: str) -> bool:
        """Quarantine the entry unread, and move it away so that this happens once."""
        detail = f"{why}; it was not read"
        accepted = intake.accept([NativeRecord(entry.location, NOT_READ, unreadable=detail)])
        log.warning("%s quarantined: %s", entry.shown, detail)
        report = {"file": entry.location, "already_imported": False, "read": False,
                  "imported_at": datetime.now(UTC).isoformat(), **accepted.document(),
                  "quarantined_total": len(accepted.quarantined)}
        self._finish(inbox, entry, report)
        return False

    def _finish(self, inbox: DropDirectory, entry: Entry, report: dict[str, Any]) -> None:
        """The report beside the file's name (masked, as its content), and the file away."""
        if entry.text is not None:
            inbox.write_beside(mask_id_numbers(entry.text) + REPORT_SUFFIX, _json(report))
        inbox.move_to_imported(entry)

    def _note_problem(self, problem: str, level: int) -> None:
        if problem != self._problem:
            log.log(level, "%s", mask_id_numbers(problem))
            self._problem = problem


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while block := stream.read(DIGEST_BLOCK_BYTES):
        digest.update(block)
    return digest.hexdigest()


def _already_imported(name: str, digest: str, first: dict[str, Any]) -> dict[str, Any]:
    """The report of a file whose bytes were imported before: nothing was imported now."""
    return {"file": name, "digest": digest, "already_imported": True,
            "first_file": first.get("file"), "first_imported_at": first.get("imported_at")}


def _json(document: dict[str, Any]) -> bytes:
    """Masked as a whole: a file name or a record's value may hold an ID number anywhere."""
    return mask_id_numbers(json.dumps(document, ensure_ascii=False, indent=2)).encode("utf-8")


def _nothing() -> None:
    """No pump to wake."""
