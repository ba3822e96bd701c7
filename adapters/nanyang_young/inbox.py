"""A Source that imports the CSV files dropped into an inbox directory, each file once.

Every `interval_s` each `*.csv` in the directory is imported, oldest name first. A file is
known by the SHA-256 of its bytes, so a file dropped again (under any name) is recognized and
not imported twice. A file's records and the note that it was imported are stored in one outbox
transaction: either the file is imported and known, or neither (and the next scan tries again).

Next to each file the inbox writes `<name>.report.json` (what became of every record) and moves
the file into `imported/`. Files must appear whole, by a rename into the directory (as
`simulator.drop` does): a file still being copied under its `.csv` name would be read half-written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base.adapter import Notify
from adapters.base.intake import Intake
from adapters.base.outbox import Outbox
from adapters.nanyang_young.feed import native_records

log = logging.getLogger(__name__)

IMPORTED = "imported"
REPORT_SUFFIX = ".report.json"


class InboxSource:
    def __init__(self, directory: str | Path, interval_s: float, outbox: Outbox) -> None:
        self.directory = Path(directory)
        self._interval_s = interval_s
        self._outbox = outbox

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log.info("adapter %s imports *.csv from %s every %ss", intake.platform, self.directory,
                 self._interval_s)
        while True:
            self.scan(intake, notify)
            if stop.wait(self._interval_s):
                return

    def scan(self, intake: Intake, notify: Notify) -> None:
        """Import every file waiting in the directory; a failing file waits for the next scan."""
        for path in sorted(self.directory.glob("*.csv")):
            if not path.is_file():
                continue
            try:
                if self.import_file(path, intake):
                    notify()
            except Exception:
                log.exception("could not import %s; it stays for the next scan", path.name)

    def import_file(self, path: Path, intake: Intake) -> bool:
        """Import one file (or recognize it), report on it, move it away; True when records
        were accepted."""
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        first = self._outbox.import_report(digest)
        if first is not None:
            log.info("%s was imported before as %s", path.name, first.get("file"))
            report = _already_imported(path.name, digest, first)
        else:
            report = self._import(path.name, data, digest, intake)
            log.info("imported %s: %d accepted, %d duplicates, %d quarantined", path.name,
                     report["accepted"], report["duplicates"], len(report["quarantined"]))
        _write_atomically(path.with_name(path.name + REPORT_SUFFIX), _json(report))
        self._move_away(path)
        return bool(report.get("accepted"))

    def _import(self, name: str, data: bytes, digest: str, intake: Intake) -> dict[str, Any]:
        records = native_records(data, name)
        with self._outbox.transaction() as transaction:
            accepted = intake.accept(records, within=transaction)
            report = {"file": name, "digest": digest, "already_imported": False,
                      "imported_at": datetime.now(UTC).isoformat(), **accepted.document()}
            transaction.record_import(digest, name, report)
        return report

    def _move_away(self, path: Path) -> None:
        """Into `imported/`, never over an earlier file of the same name."""
        folder = self.directory / IMPORTED
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        counter = 1
        while target.exists():
            target = folder / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        os.replace(path, target)


def _already_imported(name: str, digest: str, first: dict[str, Any]) -> dict[str, Any]:
    """The report of a file whose bytes were imported before: nothing was imported now."""
    return {"file": name, "digest": digest, "already_imported": True,
            "first_file": first.get("file"), "first_imported_at": first.get("imported_at")}


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
