"""What an operator reads from the database (SPEC §15): the ledger's head, the gaps of each
platform, how old each log's latest checkpoint is, the notices not yet relayed and what each
witness cosigned. Read in one short read-only transaction, each figure by one cheap query, so
that a scrape every few seconds costs the database little."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ledger.infra.db.models import LedgerEntryRow, OutboundNotice
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service.checkpoints import latest_checkpoint
from ledger.service.platform_seq import platform_overviews
from ledger.service.witnesses import witness_standings

LOGS = (LEDGER_LOG, AUDIT_LOG)
# A scrape must not hold a connection for long when the database is slow: it gives up instead.
STATEMENT_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class OperationsReadings:
    head_seq: int
    missing_by_platform: dict[str, int]
    checkpoint_age_s_by_log: dict[str, float]  # a log without a checkpoint is absent
    notices_pending: int
    cosigned_size_by_witness: dict[str, int]  # a witness that cosigned nothing yet: 0


def read_operations(session: Session, now: datetime) -> OperationsReadings:
    """The figures, from a session that has not yet begun its transaction."""
    _read_only(session)
    head_seq = session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0
    missing = {overview.code: overview.missing for overview in platform_overviews(session)}
    ages = {}
    for log in LOGS:
        latest = latest_checkpoint(session, log)
        if latest is not None:
            ages[log] = max(0.0, (now - latest.signed_at).total_seconds())
    pending = session.scalar(select(func.count()).select_from(OutboundNotice)
                             .where(OutboundNotice.published_at.is_(None))) or 0
    cosigned = {standing.name: standing.last_size or 0
                for standing in witness_standings(session, LEDGER_LOG)}
    return OperationsReadings(head_seq, missing, ages, pending, cosigned)


def _read_only(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION READ ONLY"))
        session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
