"""What needs a person (SPEC §15, `pointsledger status`): a pure decision over facts gathered
elsewhere, so that the thresholds can be tested at their edges without a database or a broker.

A checkpoint is stale when an entry has waited longer than CHECKPOINT_WAIT_MAX_S without one
covering it: the checkpointer signs growth within its interval (10 s by default), so five
minutes means it stopped. Measuring from the oldest unsigned entry, rather than from the last
checkpoint's age, keeps a quiet ledger (no entries, an old checkpoint) and the first entry after
a quiet hour (a new entry, an old checkpoint) from paging anybody. A witness is judged the same
way: it lags when a checkpoint it has not cosigned has waited longer than WITNESS_WAIT_MAX_S.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

CHECKPOINT_WAIT_MAX_S = 300.0
WITNESS_WAIT_MAX_S = 300.0
NOTICE_WAIT_MAX_S = 600.0

# Each kind of problem and its sentence; the console says the same in its reader's language.
SENTENCES = {
    "database_unreachable": "the database cannot be reached or read: %(reason)s",
    "broker_unreachable": "the broker cannot be reached: %(reason)s",
    "queue_missing": "the queue %(queue)s is not declared (run `pointsledger amqp setup`)",
    "dead_letters": "%(count)s message(s) wait in pointsledger.dead: the consumer could not "
                    "process them",
    "gap": "platform %(platform)s has not sent seqs %(seqs)s",
    "checkpoint_stale": "the %(log)s log has grown to %(size)s but entries have waited "
                        "%(waited_s)s s for a checkpoint (is `pointsledger checkpoints run` "
                        "running?)",
    "witness_stale": "witness %(witness)s has not cosigned the %(log)s log's checkpoint of "
                     "size %(size)s for %(waited_s)s s",
    "notices_waiting": "%(count)s notice(s) for the platforms have waited %(waited_s)s s to be "
                       "relayed (is `pointsledger notices relay` running?)",
}


@dataclass(frozen=True)
class Problem:
    """Something a person must look at: its kind, and the values its sentence names."""

    kind: str
    values: dict[str, str | int] = field(default_factory=dict)

    @property
    def sentence(self) -> str:
        return SENTENCES[self.kind] % self.values


@dataclass(frozen=True)
class WitnessLag:
    """A witness of a log: the largest size it cosigned (None: none), and since when the
    first checkpoint it has not cosigned has waited for it (None: it cosigned the latest)."""

    name: str
    last_size: int | None
    waiting_since: datetime | None


@dataclass(frozen=True)
class LogProgress:
    """A verifiable log: its tree's size, its latest checkpoint's size (0: none yet), and when
    the oldest entry no checkpoint covers was recorded (None: every entry is covered)."""

    log: str
    size: int
    checkpoint_size: int
    oldest_unsigned_at: datetime | None
    witnesses: Sequence[WitnessLag] = ()


@dataclass(frozen=True)
class StatusFacts:
    """What `problems` decides on; None where a fact could not be known (embedded mode)."""

    logs: Sequence[LogProgress] = ()
    gaps: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    dead_letters: int | None = None
    missing_queues: Sequence[str] = ()
    notices_pending: int = 0
    oldest_notice_at: datetime | None = None


def problems(facts: StatusFacts, now: datetime) -> list[Problem]:
    """Everything that needs a person, in the order an operator would look at it."""
    found = [Problem("queue_missing", {"queue": queue}) for queue in facts.missing_queues]
    if facts.dead_letters:
        found.append(Problem("dead_letters", {"count": facts.dead_letters}))
    for platform, gaps in sorted(facts.gaps.items()):
        if gaps:
            found.append(Problem("gap", {"platform": platform, "seqs": seq_ranges(gaps)}))
    for log in facts.logs:
        found.extend(_log_problems(log, now))
    if facts.oldest_notice_at is not None:
        waited = _seconds(now, facts.oldest_notice_at)
        if waited > NOTICE_WAIT_MAX_S:
            found.append(Problem("notices_waiting",
                                 {"count": facts.notices_pending, "waited_s": waited}))
    return found


def _log_problems(log: LogProgress, now: datetime) -> list[Problem]:
    found = []
    if log.oldest_unsigned_at is not None:
        waited = _seconds(now, log.oldest_unsigned_at)
        if waited > CHECKPOINT_WAIT_MAX_S:
            found.append(Problem("checkpoint_stale",
                                 {"log": log.log, "size": log.size, "waited_s": waited}))
    for witness in log.witnesses:
        if witness.waiting_since is None:
            continue
        waited = _seconds(now, witness.waiting_since)
        if waited > WITNESS_WAIT_MAX_S:
            found.append(Problem("witness_stale", {
                "witness": witness.name, "log": log.log, "size": log.checkpoint_size,
                "waited_s": waited}))
    return found


def seq_ranges(gaps: Sequence[tuple[int, int]]) -> str:
    """`3, 7-9`: the missing seqs as a person reads them."""
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in gaps)


def _seconds(now: datetime, since: datetime) -> int:
    """Whole seconds: what a person reads, and a threshold is crossed only once it is passed."""
    return int((now - since).total_seconds())
