"""The files the adapter imported, known by their content digest, and how far the import of a
file begun and not finished got (adapters.base.file_import)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from adapters.base.outbox.rows import TEXT_LENGTH_MAX, Clock, Connect, upsert
from adapters.base.outbox.tables import import_progress, imported_sources
from ledger.contract.personal_data import mask_id_numbers


@dataclass(frozen=True)
class ImportProgress:
    """How far the import of a file (known by its digest) got: the next chunk starts at byte
    `resume_offset`, line `resume_line`; `report` is what the committed chunks came to."""

    digest: str
    resume_offset: int
    resume_line: int
    report: dict[str, Any]


class ImportRecords:
    def __init__(self, connect: Connect, clock: Clock) -> None:
        self._connect = connect
        self._clock = clock

    def report(self, digest: str) -> dict[str, Any] | None:
        """The report of a source (a file) already imported, by its content digest."""
        with self._connect() as connection:
            report = connection.scalar(select(imported_sources.c.report)
                                       .where(imported_sources.c.digest == digest))
        return None if report is None else dict(json.loads(report))

    def progress(self, digest: str) -> ImportProgress | None:
        """How far an interrupted import of that file got, if it was begun and not finished."""
        with self._connect() as connection:
            row = connection.execute(select(import_progress)
                                     .where(import_progress.c.digest == digest)).first()
        return None if row is None else ImportProgress(row.digest, row.resume_offset,
                                                       row.resume_line, json.loads(row.report))

    def save_progress(self, progress: ImportProgress, name: str) -> None:
        with self._connect() as connection:
            upsert(connection, import_progress, {
                "digest": progress.digest, "name": mask_id_numbers(name[:TEXT_LENGTH_MAX]),
                "resume_offset": progress.resume_offset, "resume_line": progress.resume_line,
                "report": mask_id_numbers(json.dumps(progress.report, ensure_ascii=False)),
                "updated_at": self._clock()}, key=("digest",))

    def record(self, digest: str, name: str, report: dict[str, Any]) -> None:
        """The file is imported: known from now on by its digest; its progress is done with."""
        with self._connect() as connection:
            connection.execute(insert(imported_sources).values(
                digest=digest, name=mask_id_numbers(name[:TEXT_LENGTH_MAX]),
                imported_at=self._clock(),
                report=mask_id_numbers(json.dumps(report, ensure_ascii=False))))
            connection.execute(delete(import_progress)
                               .where(import_progress.c.digest == digest))
