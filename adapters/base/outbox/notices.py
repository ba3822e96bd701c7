"""The journal of the ledger's notices the adapter handled: delivered (once per notice id) or
refused, with the raw bytes and headers of what arrived."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from adapters.base.outbox.rows import TEXT_LENGTH_MAX, Clock, Connect
from adapters.base.outbox.tables import notices
from ledger.contract.personal_data import mask_id_numbers

NOTICE_DELIVERED = "delivered"
NOTICE_REFUSED = "refused"


@dataclass(frozen=True)
class RefusedNotice:
    id: int
    notice_id: str | None
    received_at: datetime
    reason: str
    detail: str
    body: bytes

    def document(self) -> dict[str, Any]:
        """As a quarantine listing line: the notice is the platform's record of nothing, so its
        location is the notice itself."""
        return {"id": self.id, "received_at": self.received_at.isoformat(),
                "location": mask_id_numbers(f"notice {self.notice_id or '(unreadable)'}"),
                "reason": self.reason, "detail": mask_id_numbers(self.detail),
                "record": mask_id_numbers(self.body.decode("utf-8", errors="replace"))}


class NoticeJournal:
    def __init__(self, connect: Connect, clock: Clock) -> None:
        self._connect = connect
        self._clock = clock

    def delivered(self, notice_id: str) -> bool:
        with self._connect() as connection:
            found = connection.scalar(
                select(notices.c.id).where(notices.c.notice_id == notice_id,
                                           notices.c.outcome == NOTICE_DELIVERED).limit(1))
        return found is not None

    def record(self, notice_id: str | None, outcome: str, reason: str | None,
               detail: str, body: bytes, headers: dict[str, str]) -> None:
        with self._connect() as connection:
            connection.execute(insert(notices).values(
                notice_id=notice_id, received_at=self._clock(), outcome=outcome,
                reason=reason, detail=detail[:TEXT_LENGTH_MAX], body=body,
                headers=json.dumps(headers, sort_keys=True)))

    def refused(self) -> list[RefusedNotice]:
        with self._connect() as connection:
            rows = connection.execute(select(notices).where(notices.c.outcome == NOTICE_REFUSED)
                                      .order_by(notices.c.id)).all()
        return [RefusedNotice(row.id, row.notice_id, row.received_at, row.reason or "",
                              row.detail, bytes(row.body)) for row in rows]

    def outcome_counts(self) -> dict[str, int]:
        """How many notices were delivered, and how many refused."""
        with self._connect() as connection:
            counted: dict[str, int] = {
                outcome: count for outcome, count in connection.execute(
                    select(notices.c.outcome, func.count()).group_by(notices.c.outcome))}
        return {outcome: int(counted.get(outcome, 0))
                for outcome in (NOTICE_DELIVERED, NOTICE_REFUSED)}
