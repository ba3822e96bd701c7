"""Where each rule-set version stands, derived from append-only rows (SPEC §8).

Nothing stores a status: a version is a draft until it is submitted, then approved or rejected.
An approved version is in force from its `effective_from` until a later approved version takes
effect, after which it is superseded; a draft that a newer draft replaces is superseded too.
Since approvals are refused with an `effective_from` before that of any approved version, the
versions in force follow one another in approval order.
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.ruleset import RuleSet, parse_ruleset
from ledger.infra.db.models import RuleSetTransition, RuleSetVersion
from ledger.service.errors import NotFound

PARSED_RULESETS_CACHED_MAX = 64


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Step:
    action: str
    actor: str
    at: datetime
    comment: str
    effective_from: datetime | None = None
    simulation_id: int | None = None


@dataclass(frozen=True)
class VersionState:
    row: RuleSetVersion
    status: Status
    active: bool
    steps: tuple[Step, ...]
    superseded_by: int | None = None

    @property
    def version(self) -> int:
        return self.row.version

    @property
    def approval(self) -> Step | None:
        return next((step for step in self.steps if step.action == "approved"), None)

    @property
    def effective_from(self) -> datetime | None:
        approval = self.approval
        return None if approval is None else approval.effective_from

    @property
    def rules(self) -> RuleSet:
        return parsed_ruleset(self.row.document)


@dataclass(frozen=True)
class Versions:
    """Every version at one moment; small (a handful of versions a year), read whole."""

    by_version: dict[int, VersionState] = field(default_factory=dict)

    def get(self, version: int) -> VersionState:
        state = self.by_version.get(version)
        if state is None:
            raise NotFound(f"rule set version {version} does not exist")
        return state

    @property
    def active(self) -> VersionState | None:
        return next((state for state in self.by_version.values() if state.active), None)

    def scheduled(self) -> VersionState | None:
        """An approved version waiting for its effective_from."""
        return next((state for state in self.by_version.values()
                     if state.status is Status.APPROVED and not state.active
                     and state.superseded_by is None), None)

    def latest_effective_from(self) -> datetime | None:
        moments = [state.effective_from for state in self.by_version.values()
                   if state.effective_from is not None]
        return max(moments, default=None)


def load_versions(session: Session, now: datetime) -> Versions:
    rows = session.scalars(select(RuleSetVersion).order_by(RuleSetVersion.version)).all()
    steps: dict[int, list[Step]] = {row.version: [] for row in rows}
    approvals: list[tuple[datetime, int, int]] = []  # (effective_from, transition id, version)
    for transition in session.scalars(select(RuleSetTransition)
                                      .order_by(RuleSetTransition.id)):
        steps[transition.version].append(Step(
            transition.action, transition.actor, transition.at, transition.comment,
            transition.effective_from, transition.simulation_id))
        if transition.action == "approved":
            assert transition.effective_from is not None
            approvals.append((transition.effective_from, transition.id, transition.version))
    in_force = [version for effective_from, _, version in sorted(approvals)
                if effective_from <= now]
    active = in_force[-1] if in_force else None
    successor = {earlier: later for earlier, later in itertools.pairwise(in_force)}
    successor.update({row.replaces: row.version for row in rows if row.replaces is not None})
    states: dict[int, VersionState] = {}
    for row in rows:
        actions = {step.action for step in steps[row.version]}
        superseded_by = successor.get(row.version)
        if "rejected" in actions:
            status = Status.REJECTED
        elif superseded_by is not None:
            status = Status.SUPERSEDED
        elif "approved" in actions:
            status = Status.APPROVED
        elif "submitted" in actions:
            status = Status.SUBMITTED
        else:
            status = Status.DRAFT
        states[row.version] = VersionState(row, status, row.version == active,
                                           tuple(steps[row.version]), superseded_by)
    return Versions(states)


def version_in_force(session: Session, moment: datetime) -> VersionState | None:
    """The version whose terms applied at `moment` (None before the first approval)."""
    return load_versions(session, moment).active


@functools.lru_cache(maxsize=PARSED_RULESETS_CACHED_MAX)
def parsed_ruleset(document_text: str) -> RuleSet:
    """A stored document, parsed once per process: it never changes, and was validated when it
    was drafted (its platforms were registered then, and platforms are never removed)."""
    document = json.loads(document_text)
    return parse_ruleset(document, known_platforms=document.get("platforms", {}).keys())
