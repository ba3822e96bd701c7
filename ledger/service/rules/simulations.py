"""Simulations: a version's impact on every resident against the active version (SPEC §8).

Measured in one read snapshot (the ledger head and the contribution it reflects), then recorded
in a second, ordinary transaction with its audit event: the audit trail must be appended at its
latest head, which a snapshot taken before another officer's step would not see.
Figures are final when recorded (`status` is `done`): the computation runs in the database in
one statement, in seconds even for the whole county.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.entry import rfc3339_utc
from ledger.infra.db.models import LedgerEntryRow, Simulation
from ledger.service.audit_trail import append_audit
from ledger.service.errors import NotFound
from ledger.service.rules.lifecycle import Actor, require_officer, subject
from ledger.service.rules.population import population_impact
from ledger.service.rules.versions import load_versions
from ledger.service.snapshot import read_snapshot

STATUS_DONE = "done"


@dataclass(frozen=True)
class Measured:
    version: int
    baseline_version: int | None
    ledger_seq: int
    sha256: str
    figures: dict[str, Any]


def simulate(sessions: sessionmaker[Session], actor: Actor, version: int,
             now: datetime) -> dict[str, Any]:
    """Measure and record a simulation of `version`; its document."""
    require_officer(actor)
    with sessions() as session:
        measured = measure(session, version, now)
    with sessions.begin() as session:
        row = Simulation(version=measured.version, baseline_version=measured.baseline_version,
                         requested_by=actor.username, created_at=now, as_of=now,
                         ledger_seq=measured.ledger_seq, figures=measured.figures)
        session.add(row)
        session.flush()
        append_audit(session, now, actor.username, "ruleset.simulated", subject(version),
                     f"simulation {row.id} against "
                     + ("no active version" if measured.baseline_version is None
                        else f"version {measured.baseline_version}"),
                     measured.sha256,
                     {"version": version, "simulation_id": row.id,
                      "baseline_version": measured.baseline_version,
                      "residents": measured.figures["residents"],
                      "gaining": measured.figures["gaining"],
                      "losing": measured.figures["losing"]})
        return simulation_document(row)


def measure(session: Session, version: int, now: datetime) -> Measured:
    read_snapshot(session)
    versions = load_versions(session, now)
    candidate = versions.get(version)
    baseline = versions.active
    ledger_seq = session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0
    tally = population_impact(session, None if baseline is None else baseline.rules,
                              candidate.rules, now)
    return Measured(version, None if baseline is None else baseline.version, ledger_seq,
                    candidate.row.document_sha256, {"status": STATUS_DONE, **tally.figures()})


def simulation_of(session: Session, version: int, simulation_id: int) -> dict[str, Any]:
    row = session.get(Simulation, simulation_id)
    if row is None or row.version != version:
        raise NotFound(f"version {version} has no simulation {simulation_id}")
    return simulation_document(row)


def simulations_of(session: Session, version: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Simulation).where(Simulation.version == version)
                           .order_by(Simulation.id)).all()
    return [simulation_document(row) for row in rows]


def simulation_document(row: Simulation) -> dict[str, Any]:
    return {"id": row.id, "version": row.version, "baseline_version": row.baseline_version,
            "requested_by": row.requested_by, "created_at": rfc3339_utc(row.created_at),
            "as_of": rfc3339_utc(row.as_of), "ledger_seq": row.ledger_seq, **row.figures}
