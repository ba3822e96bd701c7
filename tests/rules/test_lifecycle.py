"""The life of a rule-set version under four eyes (SPEC §8): draft → submitted → approved or
rejected → superseded, every step in the hash-chained audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from ledger.bootstrap import Ledger
from ledger.infra.db.models import AuditEvent
from ledger.service.audit_trail import verify_audit_trail
from ledger.service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from ledger.service.rules import lifecycle
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.versions import Status, load_versions
from tests.ledger.helpers import invoke
from tests.rules.support import (
    APPROVER,
    AUTHOR,
    TELLER,
    activate,
    approve,
    draft,
    now,
    platforms,
    simulate,
    spec_document,
    submit,
)
from tests.support import register_platform

CONCURRENT_APPROVERS = 2


@pytest.fixture
def ledger_with_platforms(ledger: Ledger) -> Ledger:
    platforms(ledger)
    return ledger


def _status(ledger: Ledger, version: int) -> tuple[Status, bool]:
    with ledger.sessions() as session:
        state = load_versions(session, now()).get(version)
    return state.status, state.active


def _audit(ledger: Ledger) -> list[AuditEvent]:
    with ledger.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_a_version_goes_from_draft_to_active(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    assert _status(ledger, version) == (Status.DRAFT, False)
    submit(ledger, version)
    assert _status(ledger, version) == (Status.SUBMITTED, False)
    simulate(ledger, version)
    approve(ledger, version)
    assert _status(ledger, version) == (Status.APPROVED, True)


def test_the_author_cannot_approve_their_own_version(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    submit(ledger, version)
    simulate(ledger, version, AUTHOR)
    with pytest.raises(Forbidden, match="four eyes") as refused:
        approve(ledger, version, approver=AUTHOR)
    assert refused.value.code == "four_eyes"
    assert _status(ledger, version) == (Status.SUBMITTED, False)


def test_approval_needs_a_simulation_of_that_exact_version(
        ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    simulated, unsimulated = draft(ledger, spec_document()), draft(ledger, spec_document())
    for version in (simulated, unsimulated):
        submit(ledger, version)
    simulate(ledger, simulated)

    with pytest.raises(Conflict, match="needs a simulation") as refused:
        approve(ledger, unsimulated)
    assert refused.value.code == "simulation_required"
    approve(ledger, simulated)
    assert _status(ledger, simulated) == (Status.APPROVED, True)


def test_a_simulation_against_a_version_no_longer_active_does_not_count(
        ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    first = activate(ledger, spec_document())
    second, third = draft(ledger, spec_document(name="B")), draft(ledger, spec_document(name="C"))
    for version in (second, third):
        submit(ledger, version)
        simulate(ledger, version)  # both against the first
    approve(ledger, second)

    with pytest.raises(Conflict, match="against the active version 2"):
        approve(ledger, third)
    assert simulate(ledger, third)["baseline_version"] == second
    approve(ledger, third)
    assert _status(ledger, first) == (Status.SUPERSEDED, False)
    assert _status(ledger, second) == (Status.SUPERSEDED, False)
    assert _status(ledger, third) == (Status.APPROVED, True)


def test_an_approval_whose_clock_was_read_before_anothers_comes_after_it(
        ledger_with_platforms: Ledger) -> None:
    """Officers read the time, then wait for the lock: the one served second may carry the
    earlier time. It is decided after the first approval all the same."""
    ledger = ledger_with_platforms
    activate(ledger, spec_document())
    second, third = draft(ledger, spec_document(name="B")), draft(ledger, spec_document(name="C"))
    for version in (second, third):
        submit(ledger, version)
        simulate(ledger, version)
    read_before_the_lock = now()
    approve(ledger, second)

    with pytest.raises(Conflict) as refused, ledger.sessions.begin() as session:
        lifecycle.approve(session, APPROVER, third, "late", read_before_the_lock)
    assert refused.value.code == "simulation_required"


def test_only_risk_officers_change_rules(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    with pytest.raises(Forbidden), ledger.sessions.begin() as session:
        lifecycle.draft(session, TELLER, spec_document(), "a teller's idea", now())
    version = draft(ledger, spec_document())
    submit(ledger, version)
    simulate(ledger, version)
    with pytest.raises(Forbidden):
        approve(ledger, version, approver=TELLER)


def test_a_bad_document_is_refused_naming_each_problem_by_path(
        ledger_with_platforms: Ledger) -> None:
    document = spec_document(platforms={"lijiayuan": {"weight": "-1"},
                                        "unknown_town": {"weight": "1.0"}})
    with pytest.raises(InvalidInput) as refused, \
            ledger_with_platforms.sessions.begin() as session:
        lifecycle.draft(session, AUTHOR, document, "typo", now())
    assert refused.value.code == "ruleset_invalid"
    assert refused.value.errors == {
        "document.platforms.lijiayuan.weight": "must not be negative",
        "document.platforms.unknown_town": "unknown platform"}
    assert _audit(ledger_with_platforms) == []


def test_a_platform_weighs_only_once_it_is_registered(ledger: Ledger) -> None:
    register_platform(ledger.sessions, "lijiayuan")
    with pytest.raises(InvalidInput) as refused, ledger.sessions.begin() as session:
        lifecycle.draft(session, AUTHOR, DEFAULT_RULESET, "default", now())
    assert set(refused.value.errors or {}) == {
        f"document.platforms.{code}" for code in
        ("nanyang_young", "wuhe_zhonglian", "pingan_gongfu")}


def test_only_the_author_submits_and_each_step_happens_once(
        ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    with pytest.raises(Forbidden, match="its author submits it"):
        submit(ledger, version, APPROVER)
    submit(ledger, version)
    with pytest.raises(Conflict, match="is submitted: only a draft version can be submitted"):
        submit(ledger, version)
    with pytest.raises(NotFound):
        submit(ledger, 99)


def test_a_new_draft_replaces_a_draft_of_its_author(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    first = draft(ledger, spec_document())
    with pytest.raises(Forbidden, match="only its author can replace it"), \
            ledger.sessions.begin() as session:
        lifecycle.draft(session, APPROVER, spec_document(), "mine", now(), replaces=first)
    with ledger.sessions.begin() as session:
        second = lifecycle.draft(session, AUTHOR, spec_document(window_months=6), "shorter",
                                 now(), replaces=first)
    with ledger.sessions() as session:
        states = load_versions(session, now())
    assert (states.get(first).status, states.get(first).superseded_by) == (
        Status.SUPERSEDED, second)
    assert states.get(second).status is Status.DRAFT
    submit(ledger, second)
    with pytest.raises(Conflict, match="only a draft can be replaced"), \
            ledger.sessions.begin() as session:
        lifecycle.draft(session, AUTHOR, spec_document(), "again", now(), replaces=second)


def test_a_rejected_version_can_no_longer_be_approved(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    submit(ledger, version)
    simulate(ledger, version)
    with ledger.sessions.begin() as session:
        lifecycle.reject(session, APPROVER, version, "caps too high", now())
    assert _status(ledger, version) == (Status.REJECTED, False)
    with pytest.raises(Conflict, match="is rejected"):
        approve(ledger, version)


def test_a_version_approved_for_later_takes_effect_then(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    current = activate(ledger, spec_document())
    later = draft(ledger, spec_document(name="next quarter"))
    submit(ledger, later)
    simulate(ledger, later)
    starts = now() + timedelta(days=30)
    approve(ledger, later, effective_from=starts)

    assert _status(ledger, current) == (Status.APPROVED, True)
    assert _status(ledger, later) == (Status.APPROVED, False)
    with ledger.sessions() as session:
        then = load_versions(session, starts + timedelta(seconds=1))
    assert then.active is not None and then.active.version == later
    assert then.get(current).status is Status.SUPERSEDED

    another = draft(ledger, spec_document(name="another"))
    submit(ledger, another)
    simulate(ledger, another)
    with pytest.raises(Conflict, match="approve another version after that"):
        approve(ledger, another)


def test_a_version_cannot_take_effect_in_the_past(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    submit(ledger, version)
    simulate(ledger, version)
    with pytest.raises(InvalidInput) as refused:
        approve(ledger, version, effective_from=now() - timedelta(days=1))
    assert refused.value.errors == {"effective_from": "must not be in the past"}


def test_every_step_is_in_the_chained_audit_trail(ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = activate(ledger, spec_document())

    events = _audit(ledger)
    assert [(event.seq, event.action, event.actor) for event in events] == [
        (1, "ruleset.drafted", AUTHOR.username),
        (2, "ruleset.submitted", AUTHOR.username),
        (3, "ruleset.simulated", APPROVER.username),
        (4, "ruleset.approved", APPROVER.username)]
    with ledger.sessions() as session:
        sha256 = load_versions(session, now()).get(version).row.document_sha256
    assert {event.subject for event in events} == {f"ruleset:{version}"}
    assert {event.document_sha256 for event in events} == {sha256}
    assert events[3].comment == "impact reviewed"
    assert events[3].details is not None and events[3].details["simulation_id"] == 1
    with ledger.sessions() as session:
        report = verify_audit_trail(session)
    assert report.intact and report.events == 4


def test_the_audit_trail_and_rule_sets_cannot_be_changed(ledger_with_platforms: Ledger) -> None:
    activate(ledger_with_platforms, spec_document())
    for statement in ("UPDATE audit_trail SET comment = 'nothing to see'",
                      "DELETE FROM audit_trail",
                      "UPDATE rulesets SET document = '{}'",
                      "DELETE FROM ruleset_transitions",
                      "UPDATE simulations SET ledger_seq = 0"):
        with pytest.raises(Exception, match="append-only"), \
                ledger_with_platforms.sessions.begin() as session:
            session.execute(text(statement))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_audit_event_changed_behind_the_databases_back_is_found(
        ledger_with_platforms: Ledger, database_url: str) -> None:
    """A superuser disabling the triggers is the way round the guard (PostgreSQL's)."""
    ledger = ledger_with_platforms
    activate(ledger, spec_document())
    with ledger.sessions.begin() as session:
        session.execute(text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
        session.execute(text("UPDATE audit_trail SET actor = 'risk-li' WHERE seq = 4"))
        session.execute(text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))

    with ledger.sessions() as session:
        report = verify_audit_trail(session)
    assert (report.intact, report.first_bad_seq) == (False, 4)
    result = invoke(database_url, "verify")
    assert result.exit_code == 1
    assert "audit trail broken at seq 4: audit event 4 does not match its entry_hash" \
        in result.stderr


def _approve_at_once(ledger: Ledger, versions: list[int]) -> list[BaseException | None]:
    """Each version approved by its own officer on its own connection, at the same moment."""
    barrier = threading.Barrier(len(versions))
    outcomes: list[BaseException | None] = [None] * len(versions)

    def approve_one(index: int) -> None:
        approver = lifecycle.Actor(f"risk-approver-{index}", "risk_officer")
        barrier.wait()
        try:
            approve(ledger, versions[index], approver=approver)
        except ServiceError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=approve_one, args=(index,))
               for index in range(len(versions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_approvals_of_two_versions_leave_exactly_one_active(
        ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    activate(ledger, spec_document())
    candidates = [draft(ledger, spec_document(name=f"candidate {index}"))
                  for index in range(CONCURRENT_APPROVERS)]
    for version in candidates:
        submit(ledger, version)
        simulate(ledger, version)

    outcomes = _approve_at_once(ledger, candidates)

    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    refused = next(outcome for outcome in outcomes if outcome is not None)
    assert isinstance(refused, Conflict) and refused.code == "simulation_required"
    with ledger.sessions() as session:
        versions = load_versions(session, now())
    active = [state.version for state in versions.by_version.values() if state.active]
    assert len(active) == 1 and active[0] in candidates


def test_concurrent_approvals_of_one_version_approve_it_once(
        ledger_with_platforms: Ledger) -> None:
    ledger = ledger_with_platforms
    version = draft(ledger, spec_document())
    submit(ledger, version)
    simulate(ledger, version)

    outcomes = _approve_at_once(ledger, [version] * CONCURRENT_APPROVERS)

    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    with ledger.sessions() as session:
        approvals = [step for step in load_versions(session, now()).get(version).steps
                     if step.action == "approved"]
    assert len(approvals) == 1
