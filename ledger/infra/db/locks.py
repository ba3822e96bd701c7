"""The ledger's two PostgreSQL advisory locks: the chain lock and the consumer lock.

The chain lock serializes appenders: every transaction that appends an entry (a batch of
events, a redemption at a counter) takes it before it reads the chain's head and the history it
decides on, and holds it until it commits. On SQLite every transaction already begins IMMEDIATE,
which holds the write lock.

The consumer lock keeps one ledger consumer at a time, held by a connection of its own.

Two consumers on one queue would each take every other batch, and could append a revocation
before the award it withdraws (refused as unknown_revocation_target) or a platform's seqs out
of order. So a consumer holds this lock while it consumes; a second one started beside it (a
rolling restart, a scaled service) stands by until the lock is free.

The lock is a session lock: it lasts as long as its connection, and PostgreSQL frees it when
that connection ends, also when the process is killed. A consumer therefore checks inside each
append transaction, after taking the chain lock, that its connection still holds it. If that
connection was lost (the database restarted, an operator ended it), the consumer takes the lock
again when it is free; when another consumer has taken it meanwhile, the batch is not appended
and the consumer gives way (ConsumerLockLost).

SQLite (the embedded mode) has one writer at a time anyway; the lock is then always held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ledger.domain.deciding import ChainHead
from ledger.domain.entry import GENESIS_HASH
from ledger.infra.db.models import LedgerEntryRow
from ledger.runtime.metrics import CONSUMER_LOCK_HELD

log = logging.getLogger(__name__)

# Any constants work: each the same for every appender (consumer) of this database, and the
# two different from each other.
CHAIN_LOCK_KEY = 0x504C4C47  # "PLLG"
CONSUMER_LOCK_KEY = 0x504C434E  # "PLCN"
APPLICATION_NAME = "pointsledger-consumer-lock"


def lock_chain(session: Session) -> None:
    """Serialize with every appender until the caller's transaction ends. Taken twice in one
    transaction (the consumer's check, then the appender) it is still one: advisory locks
    stack."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def lock_chain_head(session: Session) -> ChainHead:
    """Serialize appenders and return the last entry's seq and hash."""
    lock_chain(session)
    row = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
        .order_by(LedgerEntryRow.seq.desc()).limit(1)
    ).first()
    if row is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(row.seq, bytes.fromhex(row.entry_hash))


class ConsumerLockLost(Exception):
    """Another consumer holds the ledger now: this one must stop consuming."""


class ConsumerLock:
    def __init__(self, engine: Engine) -> None:
        self._enabled = engine.dialect.name == "postgresql"
        # A pool of its own and no pooling: the lock's connection is never handed to anyone
        # else, and closing it really ends the session (and so frees the lock).
        self._engine = create_engine(
            engine.url, poolclass=NullPool,
            connect_args={"application_name": APPLICATION_NAME}) if self._enabled else None
        self._connection: Connection | None = None
        self._backend_pid: int | None = None

    def try_acquire(self) -> bool:
        """True when this process holds the lock (now, or already); False when another does.
        Raises the database's error when the database cannot be reached."""
        if self._engine is None:
            CONSUMER_LOCK_HELD.set(1)
            return True
        if self._connection is not None:
            if self._alive():
                return True
            log.warning("the consumer lock's database connection was lost; taking the lock "
                        "again")
            self._forget()
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                              {"key": CONSUMER_LOCK_KEY}))
            pid = connection.scalar(text("SELECT pg_backend_pid()"))
        except Exception:
            connection.close()
            raise
        if not acquired:
            connection.close()
            CONSUMER_LOCK_HELD.set(0)
            return False
        self._connection, self._backend_pid = connection, int(pid)
        CONSUMER_LOCK_HELD.set(1)
        return True

    def confirm_within(self, session: Session) -> None:
        """Inside an append transaction: take the chain lock, then make sure this process
        still holds the consumer lock (taking it again if it is free); ConsumerLockLost if not.

        Under the chain lock no other appender can commit, so a consumer that passes this
        check appends its batch before any batch of a consumer that took over after it."""
        if self._engine is None:
            return
        lock_chain(session)
        if self._held_by_us(session):
            return
        if self.try_acquire() and self._held_by_us(session):
            return
        CONSUMER_LOCK_HELD.set(0)
        raise ConsumerLockLost("another consumer holds the ledger now")

    def release(self) -> None:
        self._forget()
        if self._engine is not None:
            self._engine.dispose()

    def _held_by_us(self, session: Session) -> bool:
        if self._backend_pid is None:
            return False
        return bool(session.scalar(text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 0 AND objid = :key AND objsubid = 1 AND pid = :pid)"),
            {"key": CONSUMER_LOCK_KEY, "pid": self._backend_pid}))

    def _alive(self) -> bool:
        assert self._connection is not None
        try:
            self._connection.scalar(text("SELECT 1"))
        except Exception as error:  # whatever ended it, the lock went with the session
            log.debug("the consumer lock's connection is gone (%s)", type(error).__name__)
            return False
        return True

    def _forget(self) -> None:
        connection, self._connection, self._backend_pid = self._connection, None, None
        CONSUMER_LOCK_HELD.set(0)
        if connection is not None:
            try:
                connection.close()
            except Exception as error:  # already broken: nothing to release
                log.debug("closing the consumer lock's connection: %s", type(error).__name__)


@dataclass(frozen=True)
class LockHolder:
    """The PostgreSQL session holding the consumer lock, as PostgreSQL knows it: its backend's
    pid, the application name it gave, and its client's address (None over a Unix socket)."""

    pid: int
    application_name: str
    client_address: str | None


def consumer_lock_holder(session: Session) -> LockHolder | None:
    """Who holds the consumer lock now (None: nobody, so no consumer is consuming). On
    PostgreSQL only: SQLite has no such lock, ask the caller to say it cannot be known."""
    row = session.execute(text(
        "SELECT l.pid, a.application_name, host(a.client_addr) FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key "
        "AND l.objsubid = 1 "
        # Advisory locks are per database: another ledger on the same server has its own.
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"key": CONSUMER_LOCK_KEY}).first()
    if row is None:
        return None
    return LockHolder(int(row[0]), str(row[1] or ""), row[2])
