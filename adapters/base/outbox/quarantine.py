"""Records refused on arrival, kept for an operator (`pointsledger adapter quarantine`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from adapters.base.outbox.rows import TEXT_LENGTH_MAX, Clock, Connect
from adapters.base.outbox.tables import quarantine
from ledger.contract.personal_data import mask_id_numbers


@dataclass(frozen=True)
class QuarantinedRecord:
    id: int
    received_at: datetime
    location: str
    reason: str
    detail: str
    record: str

    def document(self) -> dict[str, Any]:
        """Masked again: a row kept by an older version was masked less thoroughly."""
        return {"id": self.id, "received_at": self.received_at.isoformat(),
                "location": mask_id_numbers(self.location), "reason": self.reason,
                "detail": mask_id_numbers(self.detail), "record": mask_id_numbers(self.record)}


class Quarantine:
    def __init__(self, connect: Connect, clock: Clock) -> None:
        self._connect = connect
        self._clock = clock

    def keep(self, location: str, reason: str, detail: str, record: str) -> None:
        """Kept with every ID-number-shaped run masked (SPEC §4.5), after cutting to the column's
        length: a cut through a longer run of digits could leave one ID-shaped."""
        with self._connect() as connection:
            connection.execute(insert(quarantine).values(
                received_at=self._clock(),
                location=mask_id_numbers(location[:TEXT_LENGTH_MAX]), reason=reason,
                detail=mask_id_numbers(detail[:TEXT_LENGTH_MAX]),
                record=mask_id_numbers(record)))

    def records(self) -> list[QuarantinedRecord]:
        with self._connect() as connection:
            rows = connection.execute(select(quarantine).order_by(quarantine.c.id)).all()
        return [QuarantinedRecord(row.id, row.received_at, row.location, row.reason, row.detail,
                                  row.record) for row in rows]

    def count(self) -> int:
        with self._connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(quarantine)) or 0)
