"""`Verify`: recompute the ledger's hash chain and the audit trail's, their Merkle trees and
roots, and hold the latest signed checkpoints to them, in the background; keep what was found
as the job's result for the page that shows it (SPEC §13, §14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.entry import rfc3339_utc
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service.audit_trail import audit_event_count, verify_audit_trail_in_steps
from ledger.service.chain_audit import audit_chain_in_steps
from ledger.service.checkpoints import checkpoint_holds, latest_checkpoint
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
            sessions, lambda done, total: progress.advance(done, total + events),
            check_tree=True)
        entries = max(entries, chain.entries)
        trail = verify_audit_trail_in_steps(
            sessions, lambda done, total: progress.advance(entries + done, entries + total))
        return {
            "finished_at": rfc3339_utc(clock()),
            "ledger": {"entries": chain.entries, "head_hash": chain.head_hash,
                       "first_bad_seq": chain.first_bad_seq, "fault": chain.fault,
                       "problem": chain.problem, "root": chain.root,
                       "checkpoint": _checkpoint_held(sessions, LEDGER_LOG, chain.entries)},
            "audit_trail": {"events": trail.events, "first_bad_seq": trail.first_bad_seq,
                            "fault": trail.fault, "problem": trail.problem,
                            "checkpoint": _checkpoint_held(sessions, AUDIT_LOG, trail.events)},
        }

    return work


def _checkpoint_held(sessions: sessionmaker[Session], log: str,
                     verified: int) -> dict[str, Any] | None:
    """The log's latest checkpoint and whether the tree just verified against the rows still
    gives its root; None when none is signed, or when it is larger than what was verified."""
    with sessions() as session:
        latest = latest_checkpoint(session, log)
        if latest is None or latest.size > verified:
            return None
        return {"size": latest.size, "root_hash": latest.root.hex(),
                "signed_at": rfc3339_utc(latest.signed_at),
                "holds": checkpoint_holds(session, latest)}
