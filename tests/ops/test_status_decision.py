"""What needs a person (SPEC §15), decided from facts alone: each threshold at its edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.domain.status import (
    CHECKPOINT_WAIT_MAX_S,
    NOTICE_WAIT_MAX_S,
    WITNESS_WAIT_MAX_S,
    LogProgress,
    StatusFacts,
    WitnessLag,
    problems,
    seq_ranges,
)

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def kinds(facts: StatusFacts) -> list[str]:
    return [problem.kind for problem in problems(facts, NOW)]


def test_nothing_known_to_be_wrong_is_no_problem() -> None:
    assert problems(StatusFacts(), NOW) == []


def test_an_entry_unsigned_for_exactly_five_minutes_is_not_yet_a_problem() -> None:
    log = LogProgress("ledger", 10, 9, ago(CHECKPOINT_WAIT_MAX_S))
    assert kinds(StatusFacts(logs=[log])) == []


def test_an_entry_unsigned_for_longer_than_five_minutes_is_a_stale_checkpoint() -> None:
    log = LogProgress("ledger", 10, 9, ago(CHECKPOINT_WAIT_MAX_S + 1))

    (problem,) = problems(StatusFacts(logs=[log]), NOW)

    assert problem.kind == "checkpoint_stale"
    assert problem.values == {"log": "ledger", "size": 10, "waited_s": 301}
    assert "ledger log" in problem.sentence and "301 s" in problem.sentence


def test_an_old_checkpoint_of_a_quiet_log_is_no_problem() -> None:
    """No entry waits (oldest_unsigned_at is None) however old the checkpoint is."""
    assert kinds(StatusFacts(logs=[LogProgress("audit", 10, 10, None)])) == []


def test_a_witness_owing_a_cosignature_is_stale_only_past_five_minutes() -> None:
    def log(waited_s: float) -> LogProgress:
        return LogProgress("ledger", 10, 10, None,
                           [WitnessLag("guali", 8, ago(waited_s)), WitnessLag("kept", 10, None)])

    assert kinds(StatusFacts(logs=[log(WITNESS_WAIT_MAX_S)])) == []
    (problem,) = problems(StatusFacts(logs=[log(WITNESS_WAIT_MAX_S + 1)]), NOW)
    assert problem.kind == "witness_stale"
    assert problem.values["witness"] == "guali" and problem.values["size"] == 10


def test_notices_waiting_over_ten_minutes_are_a_problem() -> None:
    assert kinds(StatusFacts(notices_pending=3, oldest_notice_at=ago(NOTICE_WAIT_MAX_S))) == []
    (problem,) = problems(
        StatusFacts(notices_pending=3, oldest_notice_at=ago(NOTICE_WAIT_MAX_S + 1)), NOW)
    assert problem.kind == "notices_waiting" and problem.values["count"] == 3


def test_any_dead_letter_is_a_problem_and_none_is_not() -> None:
    assert kinds(StatusFacts(dead_letters=0)) == []
    assert kinds(StatusFacts(dead_letters=None)) == []  # no broker: nothing to say
    (problem,) = problems(StatusFacts(dead_letters=1), NOW)
    assert problem.kind == "dead_letters" and "1 message(s)" in problem.sentence


def test_a_gap_names_the_platform_and_its_missing_seqs() -> None:
    facts = StatusFacts(gaps={"wuhe": [], "lijiayuan": [(2, 2), (5, 7)]})

    (problem,) = problems(facts, NOW)

    assert problem.sentence == "platform lijiayuan has not sent seqs 2, 5-7"


def test_a_missing_queue_is_a_problem() -> None:
    (problem,) = problems(StatusFacts(missing_queues=["pointsledger.outbound.wuhe"]), NOW)
    assert "pointsledger.outbound.wuhe" in problem.sentence


def test_seq_ranges_reads_as_a_person_writes_them() -> None:
    assert seq_ranges([(1, 1), (3, 4)]) == "1, 3-4"
