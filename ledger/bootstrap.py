"""The one place that wires settings, database and use cases together."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.infra.db.engine import make_engine, make_session_factory
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

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Ledger:
    settings = settings or Settings.from_environment()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    return Ledger(settings, engine, sessions, Ingestor(sessions, settings.clock_skew_s, clock),
                  clock)
