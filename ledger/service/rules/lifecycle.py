"""Drafting, submitting, approving and rejecting rule-set versions, under four eyes (SPEC §8).

Every step locks the audit trail first, then reads the versions, decides, and writes its row and
its audit event in the caller's transaction: two officers acting at the same moment are decided
one after the other, so two concurrent approvals leave exactly one version active.

The rules of the bank, beyond the SPEC's: only risk officers act on rules; the author submits
their own draft and only a draft can be replaced (by its author); an approval needs a simulation
of that exact version against the version active at the moment of approval (an impact measured
against another baseline is not the impact being approved); an approval cannot take effect in
the past, nor before another approved version, and waits while another approval is scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import rfc8785
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.ruleset import RuleSetInvalid, document_sha256, parse_ruleset
from ledger.infra.db.models import Platform, RuleSetTransition, RuleSetVersion, Simulation
from ledger.service.audit_trail import append_audit, lock_audit_trail
from ledger.service.errors import Conflict, Forbidden, InvalidInput
from ledger.service.rules.versions import Status, VersionState, load_versions

RULE_ROLE = "risk_officer"
COMMENT_LENGTH_MAX = 2000
# An effective_from this close to now counts as now (clocks of client and server differ).
EFFECTIVE_FROM_TOLERANCE_S = 60


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def subject(version: int) -> str:
    return f"ruleset:{version}"


def draft(session: Session, actor: Actor, document: object, comment: str, now: datetime,
          replaces: int | None = None) -> int:
    """A new version (a draft) of `document`; returns its version number."""
    require_officer(actor)
    comment = _checked_comment(comment)
    known = session.scalars(select(Platform.code)).all()
    try:
        rules = parse_ruleset(document, known)
    except RuleSetInvalid as error:
        raise InvalidInput("the rule set is not valid", code="ruleset_invalid",
                           errors={f"document.{path}" if path != "$" else "document": message
                                   for path, message in error.errors.items()}) from None
    assert isinstance(document, dict)
    lock_audit_trail(session)
    if replaces is not None:
        replaced = load_versions(session, now).get(replaces)
        if replaced.status is not Status.DRAFT:
            raise Conflict(f"version {replaces} is {replaced.status}: only a draft can be "
                           "replaced", code="not_a_draft")
        if replaced.row.author != actor.username:
            raise Forbidden(f"version {replaces} is {replaced.row.author}'s draft: only its "
                            "author can replace it", code="not_the_author")
    version = (session.scalar(select(func.max(RuleSetVersion.version))) or 0) + 1
    sha256 = document_sha256(document)
    session.add(RuleSetVersion(version=version, name=rules.name,
                               document=rfc8785.dumps(document).decode("utf-8"),
                               document_sha256=sha256, author=actor.username, comment=comment,
                               created_at=now, replaces=replaces))
    session.flush()
    append_audit(session, now, actor.username, "ruleset.drafted", subject(version), comment,
                 sha256, {"version": version, "name": rules.name,
                          **({"replaces": replaces} if replaces is not None else {})})
    return version


def submit(session: Session, actor: Actor, version: int, comment: str, now: datetime) -> None:
    require_officer(actor)
    comment = _checked_comment(comment)
    lock_audit_trail(session)
    state = load_versions(session, now).get(version)
    _require_status(state, Status.DRAFT, "submitted")
    if state.row.author != actor.username:
        raise Forbidden(f"version {version} is {state.row.author}'s draft: its author submits "
                        "it", code="not_the_author")
    _transition(session, actor, state, "submitted", comment, now)


def reject(session: Session, actor: Actor, version: int, comment: str, now: datetime) -> None:
    """Refuse a draft or a submitted version (its author may withdraw it this way)."""
    require_officer(actor)
    comment = _checked_comment(comment)
    lock_audit_trail(session)
    state = load_versions(session, now).get(version)
    if state.status not in (Status.DRAFT, Status.SUBMITTED):
        raise Conflict(f"version {version} is {state.status}: only a draft or a submitted "
                       "version can be rejected", code="not_pending")
    _transition(session, actor, state, "rejected", comment, now)


def approve(session: Session, actor: Actor, version: int, comment: str, now: datetime,
            effective_from: datetime | None = None) -> None:
    require_officer(actor)
    comment = _checked_comment(comment)
    _checked_effective_from(effective_from, now)
    lock_audit_trail(session)
    now = _not_before_earlier_steps(session, now)
    effective_from = _checked_effective_from(effective_from, now)
    versions = load_versions(session, now)
    state = versions.get(version)
    _require_status(state, Status.SUBMITTED, "approved")
    if state.row.author == actor.username:
        raise Forbidden(f"{actor.username} wrote version {version}: another risk officer must "
                        "approve it (four eyes)", code="four_eyes")
    scheduled = versions.scheduled()
    if scheduled is not None:
        raise Conflict(f"version {scheduled.version} is approved and takes effect at "
                       f"{scheduled.effective_from:%Y-%m-%d %H:%M:%S} UTC; approve another "
                       "version after that", code="approval_scheduled")
    latest = versions.latest_effective_from()
    if latest is not None and effective_from < latest:
        raise InvalidInput("effective_from is before that of an approved version",
                           errors={"effective_from": "must not be before "
                                   f"{latest:%Y-%m-%dT%H:%M:%SZ}"})
    active = versions.active
    baseline = None if active is None else active.version
    simulation_id = _latest_simulation(session, version, baseline)
    if simulation_id is None:
        against = "no active version" if baseline is None else f"active version {baseline}"
        raise Conflict(f"approving version {version} needs a simulation of it against the "
                       f"{against}: run one first", code="simulation_required")
    _transition(session, actor, state, "approved", comment, now, effective_from, simulation_id)


def _not_before_earlier_steps(session: Session, now: datetime) -> datetime:
    """`now` was read before the lock was ours: another officer's step may have been decided,
    with a later time, while we waited. Ours comes after it, so its time does too (else an
    approval made just before ours would not yet be in force at our `now`)."""
    latest: datetime | None = session.scalar(select(func.max(RuleSetTransition.at)))
    return now if latest is None else max(now, latest)


def _latest_simulation(session: Session, version: int, baseline: int | None) -> int | None:
    baseline_matches = (Simulation.baseline_version.is_(None) if baseline is None
                        else Simulation.baseline_version == baseline)
    found: int | None = session.scalar(
        select(func.max(Simulation.id)).where(Simulation.version == version, baseline_matches))
    return found


def _transition(session: Session, actor: Actor, state: VersionState, action: str, comment: str,
                now: datetime, effective_from: datetime | None = None,
                simulation_id: int | None = None) -> None:
    session.add(RuleSetTransition(version=state.version, action=action, actor=actor.username,
                                  at=now, comment=comment, effective_from=effective_from,
                                  simulation_id=simulation_id))
    session.flush()
    details: dict[str, object] = {"version": state.version}
    if effective_from is not None:
        details["effective_from"] = effective_from.isoformat()
    if simulation_id is not None:
        details["simulation_id"] = simulation_id
    append_audit(session, now, actor.username, f"ruleset.{action}", subject(state.version),
                 comment, state.row.document_sha256, details)


def require_officer(actor: Actor) -> None:
    if actor.role != RULE_ROLE:
        raise Forbidden(f"the role {actor.role} may not change rule sets")


def _require_status(state: VersionState, expected: Status, action: str) -> None:
    if state.status is not expected:
        raise Conflict(f"version {state.version} is {state.status}: only a {expected} version "
                       f"can be {action}", code=f"not_{expected}")


def _checked_comment(comment: str) -> str:
    text = comment.strip()
    if not text or len(text) > COMMENT_LENGTH_MAX:
        raise InvalidInput("every step of a rule set keeps a comment",
                           errors={"comment": f"must be 1-{COMMENT_LENGTH_MAX} characters"})
    return text


def _checked_effective_from(effective_from: datetime | None, now: datetime) -> datetime:
    if effective_from is None:
        return now
    if effective_from.tzinfo is None:
        raise InvalidInput("effective_from needs a UTC offset",
                           errors={"effective_from": "must be RFC 3339 with an offset"})
    if (now - effective_from).total_seconds() > EFFECTIVE_FROM_TOLERANCE_S:
        raise InvalidInput("a rule set cannot take effect in the past",
                           errors={"effective_from": "must not be in the past"})
    return max(effective_from, now)
