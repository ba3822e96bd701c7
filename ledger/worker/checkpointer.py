"""`pointsledger checkpoints run`: signs each log's growth (SPEC §14), beside the consumer.

It is a process of its own so that nothing it waits on (the database lock of a log, later the
witnesses it asks to cosign) can slow ingestion; the consumer never waits for it either: the
tree grows in the append transaction, the checkpoint follows within the interval.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ledger.bootstrap import Ledger
from ledger.infra.db.models import CheckpointRow
from ledger.service.checkpoints import (
    LOGS,
    CheckpointPolicy,
    TreeContradictsCheckpoint,
    log_signer,
    sign_if_due,
)
from ledger.worker.stopping import StopRequest

log = logging.getLogger(__name__)


@dataclass
class Checkpointer:
    """Signs the ledger's and the audit trail's checkpoints when due, until stopped."""

    ledger: Ledger
    policy: CheckpointPolicy
    stop: StopRequest = field(default_factory=StopRequest)
    # The logs whose tree contradicts their last checkpoint: said once, then retried quietly.
    _refused: set[str] = field(default_factory=set)

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
        while not self.stop.requested:
            self.sign_due()
            self.stop.sleep(self.policy.poll_s)

    def run_in_background(self) -> threading.Thread:
        """The embedded mode (`serve`, `demo`) appends in-process: sign beside it, in a daemon
        thread that ends with the process (or when `stop` is requested)."""
        thread = threading.Thread(target=self.run, name="checkpointer", daemon=True)
        thread.start()
        return thread
