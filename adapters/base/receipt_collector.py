"""The receipt collector: for every event the adapter published, the ledger's proof that its log
holds it, verified and kept (SPEC §14). A township can then show that the bank recorded what
its platform sent, and that the bank never showed it two histories.

Runs in a thread of `pointsledger adapter run` beside the pump, and never holds it up: it only
reads the outbox's published events and writes its own tables. Each round asks about the
published events without a receipt, oldest first, a batch at a time, and keeps each verified
proof (adapters.base.receipt_proofs says what one proves) with its checkpoint; an event is
asked about at most once every `ask_interval_s` (adapters.base.receipt_schedule).

- Every checkpoint a proof comes with is held to the newest one the adapter verified before: a
  larger one must extend it by a consistency proof (and is kept in its place), a smaller one
  must be a prefix of it, one of the same size must be the same. Two that contradict each other
  are kept as they came, logged as an error, and shown by `adapter status`; the collector then
  stops asking until the adapter is restarted: a ledger that forked proves nothing more.
- An event the ledger rejected is noted as rejected (its outcome, GET …/events/{id}) and not
  asked about again.
- A proof that does not verify, or names the entry another receipt holds (one entry is one
  event), is not kept; it is logged, and the event asked about later.
- The ledger's API down is waited out with back-off, said once (ledger.runtime.retry); a token
  it refuses (401, 403) is said once and ends the asking until the adapter is restarted.
- The outbox busy is waited out too; any other failure of the outbox stops the adapter
  (adapters.base.failures), as it does for the pump.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from adapters.base.failures import described, is_transient
from adapters.base.ledger_api import (
    LedgerApi,
    LedgerApiRefused,
    LedgerApiUnavailable,
    NotRecorded,
    NotYetCheckpointed,
    Recorded,
    Rejected,
)
from adapters.base.outbox.receipts import (
    Receipt,
    ReceiptStore,
    UnprovenEvent,
    checkpoint_of,
    inconsistency_sentence,
)
from adapters.base.outbox.rows import utc_now
from adapters.base.receipt_proofs import (
    AnswerMalformed,
    Inconsistent,
    ProofAnswer,
    ProofRejected,
    check_consistent,
    consistency_sizes,
    verify_proof,
)
from adapters.base.receipt_schedule import AskSchedule, Wait
from adapters.base.redaction import quoted
from ledger.contract.checkpoint import Checkpoint
from ledger.contract.note_keys import Verifier
from ledger.runtime.retry import GaveUp, Outage, pause_until, retry_call

log = logging.getLogger(__name__)

ROUND_INTERVAL_S = 5.0
ASK_INTERVAL_S = 30.0
ASK_INTERVAL_S_MAX = 3600.0
BATCH_EVENTS = 100
# Distinct failures said at ERROR before they are said at DEBUG only (a wrong key fails every
# proof the same way: once is enough).
SAID_MAX = 1000


class LedgerForked(Exception):
    """The ledger showed two checkpoints that contradict each other."""


class ReceiptCollector:
    def __init__(self, platform: str, store: ReceiptStore, api: LedgerApi, log_key: Verifier,
                 *, round_interval_s: float = ROUND_INTERVAL_S,
                 ask_interval_s: float = ASK_INTERVAL_S,
                 ask_interval_s_max: float = ASK_INTERVAL_S_MAX,
                 batch_size: int = BATCH_EVENTS, clock: Callable[[], datetime] = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._platform = platform
        self._store = store
        self._api = api
        self._log_key = log_key
        self._round_interval_s = round_interval_s
        self._batch_size = batch_size
        self._clock = clock
        self._schedule = AskSchedule(ask_interval_s, ask_interval_s_max, monotonic)
        self._kept: tuple[str, Checkpoint] | None = None
        # Smaller checkpoints already shown to be prefixes of the kept one: (size, root).
        self._older_consistent: set[tuple[int, bytes]] = set()
        self._said: set[str] = set()

    def run(self, stop: threading.Event) -> None:
        """Rounds until `stop`, or until the ledger refuses the token or shows a fork."""
        outage = Outage(log, "receipts: %s; asking again with back-off",
                        "receipts: collecting again after %.1f s",
                        describe=_why_waiting)
        while not stop.is_set():
            try:
                retry_call(lambda: self.collect(stop), transient=_passes, outage=outage,
                           pause=pause_until(stop))
            except GaveUp:
                return
            except LedgerApiRefused as error:
                log.error("receipts: %s; no receipt is asked for until the adapter is "
                          "restarted", error)
                return
            except LedgerForked:
                return  # said where it was found
            stop.wait(self._round_interval_s)

    def collect(self, stop: threading.Event | None = None) -> int:
        """One round: ask about the unproven events, oldest first, until one has to wait for
        the ledger. Returns how many receipts were kept. Raises LedgerApiUnavailable,
        LedgerApiRefused, LedgerForked and the outbox's errors."""
        kept = self._ask_in_order(stop)
        self._store.advance_settled()
        return kept

    def _ask_in_order(self, stop: threading.Event | None) -> int:
        kept = 0
        after_seq = 0
        while batch := self._store.unproven(self._batch_size, after_seq):
            for event in batch:
                if stop is not None and stop.is_set():
                    return kept
                wait = self._schedule.wait_of(event.seq)
                if wait is Wait.FOR_CHECKPOINT:
                    return kept
                if wait is Wait.FOR_LEDGER:
                    continue
                proven = self._ask(event)
                if proven is None:
                    return kept
                kept += proven
            after_seq = batch[-1].seq
        return kept

    def _ask(self, event: UnprovenEvent) -> int | None:
        """1 if a receipt was kept, 0 if the event is settled otherwise (rejected), None when
        the round should end: the ledger has not got this far."""
        try:
            answer = self._api.event_proof(self._platform, event.event_id)
            if isinstance(answer, NotYetCheckpointed):
                self._schedule.for_checkpoint(event.seq)
                return None
            if isinstance(answer, NotRecorded):
                return self._not_recorded(event, answer)
            return self._prove(event, answer)
        except AnswerMalformed as error:
            self._say(f"the ledger's answer about event {quoted(event.event_id)} is not what "
                      f"its API promises ({error}); asking again later", str(error))
            self._schedule.for_ledger(event.seq)
            return None

    def _not_recorded(self, event: UnprovenEvent, answer: NotRecorded) -> int | None:
        outcome = self._api.event_outcome(self._platform, event.event_id)
        if isinstance(outcome, Rejected):
            self._store.note_rejected(event, outcome.reason)
            self._schedule.forget(event.seq)
            log.info("receipts: the ledger rejected event %s (%s): counted as rejected, not "
                     "unproven", quoted(event.event_id), outcome.reason)
            return 0
        if isinstance(outcome, Recorded):
            # Recorded between the two questions, or a ledger without the proofs of SPEC §14.
            self._say(f"the ledger has event {quoted(event.event_id)} recorded but no proof "
                      f"of it ({answer.code or 'no code'}); asking again later",
                      f"recorded, no proof: {answer.code}", logging.WARNING)
            self._schedule.for_checkpoint(event.seq)
        else:
            self._schedule.for_ledger(event.seq)
        return None

    def _prove(self, event: UnprovenEvent, answer: ProofAnswer) -> int | None:
        try:
            verified = verify_proof(answer, self._log_key)
            owner = self._store.event_at(answer.seq)
            if owner is not None and owner != event.event_id:
                raise ProofRejected(f"it names the entry at seq {answer.seq}, which is the "
                                    f"ledger's entry of event {quoted(owner)}")
        except ProofRejected as error:
            self._say(f"the ledger's proof of event {quoted(event.event_id)} does not verify: "
                      f"{error}; it is not kept, and asked for again later", str(error))
            self._schedule.for_ledger(event.seq)
            return None
        self._hold_to_kept(verified.checkpoint, answer.checkpoint)
        self._store.keep(Receipt(
            outbox_seq=event.seq, event_id=event.event_id, ledger_seq=answer.seq,
            tree_size=answer.tree_size, leaf_hash=answer.leaf_hash, proof_hashes=answer.hashes,
            checkpoint=answer.checkpoint, proven_at=self._clock()))
        self._schedule.forget(event.seq)
        return 1

    def _hold_to_kept(self, shown: Checkpoint, note: str) -> None:
        """Check a checkpoint (verified) against the newest one kept, and keep it if newer.
        Raises LedgerForked, LedgerApiUnavailable, AnswerMalformed."""
        kept = self._kept_checkpoint()
        if kept is None:
            self._keep(note, shown)
            return
        kept_note, kept_checkpoint = kept
        identity = (shown.size, shown.root_hash)
        if identity == (kept_checkpoint.size, kept_checkpoint.root_hash) \
                or identity in self._older_consistent:
            return
        sizes = consistency_sizes(kept_checkpoint, shown)
        proof = () if sizes is None else self._api.consistency_proof(*sizes)
        try:
            check_consistent(kept_checkpoint, shown, proof)
        except Inconsistent as error:
            self._store.record_inconsistency(kept_note, note, str(error))
            log.error("receipts: %s (%s): the ledger's log forked, or was rolled back. Both "
                      "signed checkpoints are kept in the outbox (table "
                      "inconsistent_checkpoints) as evidence; no receipt is asked for until "
                      "the adapter is restarted",
                      inconsistency_sentence(kept_checkpoint.size, shown.size), error)
            raise LedgerForked(str(error)) from None
        if shown.size > kept_checkpoint.size:
            self._keep(note, shown)
        else:
            self._older_consistent.add(identity)

    def _kept_checkpoint(self) -> tuple[str, Checkpoint] | None:
        if self._kept is None:
            note = self._store.kept_checkpoint()
            if note is not None:
                self._kept = (note, checkpoint_of(note))
        return self._kept

    def _keep(self, note: str, checkpoint: Checkpoint) -> None:
        self._store.keep_checkpoint(note)
        self._kept = (note, checkpoint)
        self._older_consistent.clear()

    def _say(self, message: str, kind: str, level: int = logging.ERROR) -> None:
        """At `level` the first time a failure of this kind is seen, at DEBUG after that."""
        if len(self._said) >= SAID_MAX:
            self._said.clear()
        if kind in self._said:
            log.debug("receipts: %s", message)
            return
        self._said.add(kind)
        log.log(level, "receipts: %s", message)


def _passes(error: BaseException) -> bool:
    """The ledger's API down, or the outbox busy with another writer."""
    if isinstance(error, LedgerApiUnavailable):
        return True
    return isinstance(error, SQLAlchemyError) and is_transient(error)


def _why_waiting(error: BaseException) -> str:
    if isinstance(error, LedgerApiUnavailable):
        return str(error)
    return f"the outbox is busy ({described(error)})"
