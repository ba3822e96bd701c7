"""`pointsledger checkpoints run`: signs each log's growth (SPEC §14), beside the consumer.

It is a process of its own so that nothing it waits on (the database lock of a log, the
witnesses it asks to cosign) can slow ingestion; the consumer never waits for it either: the
tree grows in the append transaction, the checkpoint follows within the interval. The witnesses
are asked from threads of their own (`witness_asking`), so that one that is down never delays
the signing either.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from ledger.bootstrap import Ledger
from ledger.infra.db.models import CheckpointRow
from ledger.runtime.retry import Outage
from ledger.runtime.stopping import StopRequest
from ledger.service.checkpoints import (
    LOGS,
    CheckpointPolicy,
    TreeContradictsCheckpoint,
    log_signer,
    sign_if_due,
)
from ledger.worker.ingestion import database_unavailable
from ledger.worker.witness_asking import AskingPolicy, WitnessAsking

log = logging.getLogger(__name__)

# The witnesses' threads look for a new checkpoint at most this often, however fast the
# checkpointer polls (a test's policy polls without pause).
ASKING_POLL_S_MIN = 0.1


@dataclass
class Checkpointer:
    """Signs the ledger's and the audit trail's checkpoints when due, and has every witness
    asked to cosign them, until stopped."""

    ledger: Ledger
    policy: CheckpointPolicy
    stop: StopRequest = field(default_factory=StopRequest)
    # How the witnesses are asked; by default they look for a new checkpoint as often as the
    # checkpointer looks for growth.
    asking: AskingPolicy | None = None
    # The logs whose tree contradicts their last checkpoint: said once, then retried quietly.
    _refused: set[str] = field(default_factory=set)
    _outage: Outage = field(default_factory=lambda: Outage(
        log, "the database is unavailable (%s): checkpoints wait until it is back",
        "the database is back after %.0f s: signing again"))

    def sign_due(self) -> list[CheckpointRow]:
        """One round: each log's checkpoint if due; the checkpoints signed."""
        signed = []
        key = self.ledger.ledger_key()
        for name in LOGS:
            signer = log_signer(self.ledger.settings.log_origin, name, key)
            try:
                with self.ledger.sessions.begin() as session:
                    row = sign_if_due(session, name, signer, self.policy, self.ledger.clock())
                    if row is not None:
                        session.expunge(row)
            except TreeContradictsCheckpoint as error:
                if name not in self._refused:
                    log.error("not signing the %s log: %s", name, error)
                    self._refused.add(name)
                continue
            self._refused.discard(name)
            if row is not None:
                log.info("signed the %s log's checkpoint of size %d", name, row.size)
                signed.append(row)
        return signed

    def run(self) -> None:
        asking = self.asking or AskingPolicy(max(self.policy.poll_s, ASKING_POLL_S_MIN))
        witnesses = WitnessAsking(self.ledger, asking, self.stop)
        try:
            while not self.stop.requested:
                self.round(witnesses)
                self.stop.sleep(self.policy.poll_s)
        finally:
            self.stop.request()  # also when signing failed: the asking threads end with it
            waiting = witnesses.join()
            if waiting:
                log.info("stopped while waiting on witness %s", ", ".join(waiting))

    def round(self, witnesses: WitnessAsking) -> None:
        """Sign what is due and start asking new witnesses; a database that cannot be reached
        is waited out (said once as it begins and once as it ends), never the end of the run."""
        try:
            self.sign_due()
            witnesses.start_new()
        except SQLAlchemyError as error:
            if not database_unavailable(error):
                raise
            self._outage.failed(error, self.policy.poll_s)
        else:
            self._outage.over()

    def run_in_background(self) -> threading.Thread:
        """The embedded mode (`serve`, `demo`) appends in-process: sign beside it, in a daemon
        thread that ends with the process (or when `stop` is requested)."""
        thread = threading.Thread(target=self.run, name="checkpointer", daemon=True)
        thread.start()
        return thread
