"""`Verify`: recompute the ledger's hash chain and the audit trail's, in the background, and
keep what was found as the job's result for the page that shows it (SPEC §13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.entry import rfc3339_utc
from ledger.service.audit_trail import audit_event_count, verify_audit_trail_in_steps
from ledger.service.chain_audit import audit_chain_in_steps
from ledger.service.jobs import Progress, Work
from ledger.service.ledger_read import ledger_head

JOB_KIND = "ledger.verify"


def verification(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Work:
    """The work: both chains, their progress told as one (the ledger's entries, then the
    trail's events), each read a batch per transaction so that appends go on meanwhile."""

    def work(progress: Progress) -> dict[str, Any]:
        with sessions() as session:
            entries = ledger_head(session).seq
            events = audit_event_count(session)
        chain = audit_chain_in_steps(
            sessions, lambda done, total: progress.advance(done, total + events))
        entries = max(entries, chain.entries)
        trail = verify_audit_trail_in_steps(
            sessions, lambda done, total: progress.advance(entries + done, entries + total))
        return {
            "finished_at": rfc3339_utc(clock()),
            "ledger": {"entries": chain.entries, "head_hash": chain.head_hash,
                       "first_bad_seq": chain.first_bad_seq, "fault": chain.fault,
                       "problem": chain.problem},
            "audit_trail": {"events": trail.events, "first_bad_seq": trail.first_bad_seq,
                            "fault": trail.fault, "problem": trail.problem},
        }

    return work
