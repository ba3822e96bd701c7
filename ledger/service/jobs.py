"""Long work in the background, with its progress kept in the database (SPEC §13).

A console page that asks for a verification of the whole ledger, or a simulation over a county,
must not keep the person (or the process's other pages) waiting: the work runs in a thread of a
small pool, and writes how far it has got into `console_jobs`, so that any process serving the
next page can show a progress bar. A job whose process died stops being updated: after
STALE_AFTER without news it is shown as interrupted.

The work is a function of a Progress; what it returns (a small JSON document) is kept as the
job's result for the page that shows it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ledger.infra.db.models import ConsoleJob
from ledger.service.errors import NotFound

log = logging.getLogger(__name__)

WORKERS_MAX = 2  # at most this much long work at once per process; more waits its turn
PROGRESS_WRITE_INTERVAL_S = 0.5
STALE_AFTER = timedelta(minutes=2)
RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"

Clock = Callable[[], datetime]


class Progress:
    """What the work reports as it goes: `advance(done, total)`, written at most twice a
    second (and always at the end)."""

    def __init__(self, sessions: sessionmaker[Session], job_id: str, clock: Clock) -> None:
        self._sessions = sessions
        self._job_id = job_id
        self._clock = clock
        self._written_at = 0.0

    def advance(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._written_at < PROGRESS_WRITE_INTERVAL_S:
            return
        self._written_at = time.monotonic()
        values: dict[str, Any] = {"done": done, "updated_at": self._clock()}
        if total is not None:
            values["total"] = total
        with self._sessions.begin() as session:
            session.execute(update(ConsoleJob).where(ConsoleJob.id == self._job_id)
                            .values(**values))


Work = Callable[[Progress], dict[str, Any]]


@dataclass(frozen=True)
class JobView:
    id: str
    kind: str
    requested_by: str
    outcome: str
    done: int
    total: int | None
    result: dict[str, Any] | None
    error: str | None

    @property
    def percent(self) -> int | None:
        if self.outcome == DONE:
            return 100
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)


class JobRunner:
    """One per process: runs work in its pool, records it in the database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self, kind: str, requested_by: str, work: Work) -> str:
        job_id = uuid.uuid4().hex
        now = self._clock()
        with self._sessions.begin() as session:
            session.add(ConsoleJob(id=job_id, kind=kind, requested_by=requested_by,
                                   created_at=now, updated_at=now, done=0, total=None,
                                   finished_at=None, outcome=RUNNING, result=None, error=None))
        self._executor().submit(self._run, job_id, work)
        return job_id

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(WORKERS_MAX, thread_name_prefix="console-job")
            return self._pool

    def _run(self, job_id: str, work: Work) -> None:
        progress = Progress(self._sessions, job_id, self._clock)
        try:
            result = work(progress)
        except Exception as error:
            # The class only: a message may quote what the work read.
            log.exception("console job %s failed", job_id)
            self._finish(job_id, FAILED, None, type(error).__name__)
            return
        self._finish(job_id, DONE, result, None)

    def _finish(self, job_id: str, outcome: str, result: dict[str, Any] | None,
                error: str | None) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            session.execute(update(ConsoleJob).where(ConsoleJob.id == job_id).values(
                outcome=outcome, result=result, error=error, finished_at=now, updated_at=now))

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def job_of(session: Session, job_id: str, requested_by: str, now: datetime) -> JobView:
    """A job, for the person who asked for it only (another's is as good as missing)."""
    row = session.get(ConsoleJob, job_id)
    if row is None or row.requested_by != requested_by:
        raise NotFound("no such job of yours", code="unknown_job")
    outcome = row.outcome
    if outcome == RUNNING and now - row.updated_at > STALE_AFTER:
        outcome = INTERRUPTED
    return JobView(row.id, row.kind, row.requested_by, outcome, row.done, row.total,
                   row.result, row.error)
