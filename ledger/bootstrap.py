"""The one place that wires settings, database and use cases together."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.infra.ledger_key import load_or_create_ledger_key
from ledger.runtime.database import make_engine, make_session_factory
from ledger.service.ingest import Clock, Ingestor, utc_now
from ledger.settings import Settings


@dataclass
class Ledger:
    """Everything a process (API, consumer, CLI command) needs, built from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    ingestor: Ingestor
    clock: Clock = field(default=utc_now)
    _ledger_key: Ed25519PrivateKey | None = field(default=None, init=False, repr=False)
    _ledger_key_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                             repr=False)

    def ledger_key(self) -> Ed25519PrivateKey:
        """The ledger's signing key, read (or generated once) on first use; one key for all of
        a process's threads (two threads of a first request must not each make their own)."""
        with self._ledger_key_lock:
            if self._ledger_key is None:
                self._ledger_key = load_or_create_ledger_key(self.settings.ledger_key_file)
            return self._ledger_key

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Ledger:
    settings = settings or Settings.from_environment()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    ingestor = Ingestor(sessions, settings.clock_skew_s, settings.retired_key_grace_s, clock)
    return Ledger(settings, engine, sessions, ingestor, clock)
