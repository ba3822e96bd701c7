"""Asking every witness to cosign each log's latest checkpoint (SPEC §14, C2SP tlog-witness):
one thread per registered witness inside `pointsledger checkpoints run`.

A witness that is down delays nothing else: the checkpointer's own thread goes on signing and the
consumer never waits for either. The witness's thread says why (a WARNING naming it), backs off
(doubling, up to `backoff_max_s`) and then asks about the checkpoint that is latest by then, so a
witness back after a while catches up in one request. Each thread opens its own database
sessions and holds none while it waits on its witness.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from ledger.bootstrap import Ledger
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.infra.witness_client import REQUEST_TIMEOUT_S, WitnessClient, WitnessUnreachable
from ledger.runtime.metrics import WITNESS_COSIGNED_SIZE
from ledger.runtime.stopping import StopRequest
from ledger.service.checkpoints import LOGS
from ledger.service.witnesses import witness_standings
from ledger.service.witnessing import (
    CosignRequest,
    NotCosigned,
    Unfollowable,
    Verdict,
    WitnessHolds,
    WitnessTarget,
    follow_witness,
    read_answer,
    record_cosigned,
    request_for_latest,
    witness_targets,
)

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
# How long a stop waits for the asking threads: one still waiting on its witness is left to the
# process's exit (it holds no database session then, and it records nothing once stopped).
STOP_JOIN_S = 2.0


@dataclass(frozen=True)
class AskingPolicy:
    """How often a witness's thread looks for a new checkpoint, how long it waits for an answer,
    and how it backs off after a failure."""

    poll_s: float
    timeout_s: float = REQUEST_TIMEOUT_S
    backoff_first_s: float = BACKOFF_FIRST_S
    backoff_max_s: float = BACKOFF_MAX_S

    def backoff_s(self, failures: int) -> float:
        """The wait after `failures` failures in a row."""
        return float(min(self.backoff_max_s, self.backoff_first_s * 2 ** min(failures - 1, 32)))


class _Outcome(enum.Enum):
    DONE = "cosigned, or nothing to ask"
    FAILED = "not cosigned this time"
    FORK = "the witness holds a history the ledger did not sign"


@dataclass
class _Attempts:
    """How one log's asking of one witness stands: failures in a row, when to ask again, and
    the fork last reported (said once, not at every retry)."""

    failures: int = 0
    retry_at: float = 0.0
    fork_said: str | None = None


class WitnessAsker:
    """Asks one witness to cosign each log's latest checkpoint, in its own thread, until stopped."""

    def __init__(self, ledger: Ledger, witness: WitnessTarget, policy: AskingPolicy,
                 stop: StopRequest) -> None:
        self.ledger = ledger
        self.witness = witness
        self.policy = policy
        self.stop = stop
        self.client = WitnessClient(policy.timeout_s)
        self._attempts = {name: _Attempts() for name in LOGS}

    def run(self) -> None:
        log.info("asking witness %s to cosign the checkpoints", self.witness.name)
        self._export_standing()
        while not self.stop.requested:
            self.ask_round()
            self.stop.sleep(self.policy.poll_s)

    def ask_round(self) -> None:
        """Ask about each log whose latest checkpoint the witness has not cosigned, unless that
        log's asking is backing off."""
        for name in LOGS:
            attempts = self._attempts[name]
            if self.stop.requested or time.monotonic() < attempts.retry_at:
                continue
            try:
                outcome = self._ask(name, attempts)
            except Exception:  # the database gone for a while, a bug: said, then tried later
                log.exception("asking witness %s about the %s log failed", self.witness.name,
                              name)
                outcome = _Outcome.FAILED
            self._note(attempts, outcome)

    def _note(self, attempts: _Attempts, outcome: _Outcome) -> None:
        if outcome is _Outcome.DONE:
            attempts.failures, attempts.retry_at, attempts.fork_said = 0, 0.0, None
        elif outcome is _Outcome.FORK:
            # Asking again at once would get the same answer; the witness's operator may reset
            # it, so it is asked again, rarely.
            attempts.retry_at = time.monotonic() + self.policy.backoff_max_s
        else:
            attempts.failures += 1
            attempts.retry_at = time.monotonic() + self.policy.backoff_s(attempts.failures)

    def _ask(self, name: str, attempts: _Attempts) -> _Outcome:
        with self.ledger.sessions() as session:
            asked = request_for_latest(session, name, self.witness.name)
        if asked is None:
            return _Outcome.DONE
        verdict = self._post(asked)
        if isinstance(verdict, WitnessHolds) and not self.stop.requested:
            followed = self._follow(asked, verdict, attempts)
            if isinstance(followed, _Outcome):
                return followed
            asked, verdict = followed
        if self.stop.requested:  # the process is closing its database: the answer is dropped
            return _Outcome.DONE
        if isinstance(verdict, NotCosigned | WitnessHolds):
            reason = (verdict.reason if isinstance(verdict, NotCosigned)
                      else f"answered 409, holding size {verdict.size}")
            log.warning("witness %s did not cosign the %s log's checkpoint of size %d (asked "
                        "from size %d): %s; asking again in %.0f s", self.witness.name, name,
                        asked.size, asked.old_size, reason,
                        self.policy.backoff_s(attempts.failures + 1))
            return _Outcome.FAILED
        with self.ledger.sessions.begin() as session:
            recorded = record_cosigned(session, asked, self.witness.name, verdict,
                                       self.ledger.clock())
        if recorded:
            log.info("witness %s cosigned the %s log's checkpoint of size %d",
                     self.witness.name, name, asked.size)
            if name == LEDGER_LOG:
                WITNESS_COSIGNED_SIZE.labels(witness=self.witness.name).set(asked.size)
        return _Outcome.DONE

    def _export_standing(self) -> None:
        """What the witness cosigned before this process started, so that the gauge does not
        wait for the log to grow; best effort (a database outage leaves it to the next
        cosignature)."""
        try:
            with self.ledger.sessions() as session:
                standings = witness_standings(session, LEDGER_LOG)
        except SQLAlchemyError as error:
            log.debug("cannot read witness %s's standing yet (%s)", self.witness.name,
                      type(error).__name__)
            return
        for standing in standings:
            if standing.name == self.witness.name and standing.last_size is not None:
                WITNESS_COSIGNED_SIZE.labels(witness=standing.name).set(standing.last_size)

    def _follow(self, asked: CosignRequest, holds: WitnessHolds,
                attempts: _Attempts) -> tuple[CosignRequest, Verdict] | _Outcome:
        """Ask again, once, from the size the witness holds if the ledger signed it. A second
        409 is a failure to retry later, or a fork when it names the size just sent."""
        with self.ledger.sessions() as session:
            followed = follow_witness(session, asked, holds.size)
        if isinstance(followed, Unfollowable):
            return self._unfollowable(asked, followed, attempts)
        verdict = self._post(followed)
        if isinstance(verdict, WitnessHolds):
            with self.ledger.sessions() as session:
                again = follow_witness(session, followed, verdict.size)
            if isinstance(again, Unfollowable) and again.fork:
                return self._unfollowable(followed, again, attempts)
        return followed, verdict

    def _post(self, asked: CosignRequest) -> Verdict:
        try:
            answer = self.client.add_checkpoint(self.witness.url, asked.body())
        except WitnessUnreachable as error:
            return NotCosigned(f"no answer: {error}")
        return read_answer(answer, self.witness, asked)

    def _unfollowable(self, asked: CosignRequest, why: Unfollowable,
                      attempts: _Attempts) -> _Outcome:
        if not why.fork:
            log.info("witness %s: %s", self.witness.name, why.reason)
            return _Outcome.DONE
        if attempts.fork_said != why.reason:
            log.error("witness %s refuses the %s log's checkpoint of size %d: %s",
                      self.witness.name, asked.log, asked.size, why.reason)
            attempts.fork_said = why.reason
        return _Outcome.FORK


@dataclass
class WitnessAsking:
    """The asking threads of one `checkpoints run`: one per registered witness, started as the
    witnesses are registered, stopped by the checkpointer's stop request."""

    ledger: Ledger
    policy: AskingPolicy
    stop: StopRequest
    _threads: dict[str, threading.Thread] = field(default_factory=dict)

    def start_new(self) -> None:
        """Start asking each witness registered since the last call."""
        with self.ledger.sessions() as session:
            targets = [target for target in witness_targets(session)
                       if target.name not in self._threads]
        for target in targets:
            asker = WitnessAsker(self.ledger, target, self.policy, self.stop)
            # A daemon: a thread still waiting on its witness never holds the process's exit.
            thread = threading.Thread(target=asker.run, name=f"witness-{target.name}",
                                      daemon=True)
            thread.start()
            self._threads[target.name] = thread

    def join(self, timeout_s: float = STOP_JOIN_S) -> list[str]:
        """Wait (up to `timeout_s` in all) for the threads to end once stopped; the witnesses
        whose thread is still waiting on them."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        return [name for name, thread in self._threads.items() if thread.is_alive()]
