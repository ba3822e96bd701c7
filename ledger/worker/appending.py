"""The append thread: the worker's batches appended one after another, in the order cut.

A single-thread executor. The broker thread hands each batch over as soon as it is cut and goes
on receiving while the batch waits for its verdicts and for the database; each append's future
wakes the broker thread when it is done, and the broker thread settles (acks) the results in
the order handed over. After a failure nothing more is appended until the worker, which
re-raises the failure, has `abandon`ed the rest: a later batch appended before an earlier one
could record a revocation before the award it withdraws.

Only the thread that owns the broker connection calls these methods.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


class _Halted(Exception):
    """Not appended: an earlier job failed."""


@dataclass(frozen=True)
class Finished(Generic[Job, Result]):
    job: Job
    result: Result | None = None
    error: Exception | None = None


class AppendLine(Generic[Job, Result]):
    def __init__(self, work: Callable[[Job], Result], name: str = "append") -> None:
        self._work = work
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        # Handed over and not yet collected, in the order handed over.
        self._handed: deque[tuple[Job, Future[Result]]] = deque()
        # Set in the append thread by a failure; cleared by abandon().
        self._halted = threading.Event()

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)

    def hand_over(self, job: Job, wake: Callable[[], None]) -> None:
        """Queue a job; `wake()` is called from the append thread once it is done."""
        assert self._executor is not None, "start() first"
        future = self._executor.submit(self._append, job)
        future.add_done_callback(lambda _done: _call(wake))
        self._handed.append((job, future))

    def finished(self) -> list[Finished[Job, Result]]:
        """The jobs done since the last call, in the order handed over, up to the first that
        failed."""
        done: list[Finished[Job, Result]] = []
        while self._handed and self._handed[0][1].done():
            job, future = self._handed.popleft()
            error = future.exception()
            if error is not None:
                assert isinstance(error, Exception) and not isinstance(error, _Halted)
                done.append(Finished(job, error=error))
                break
            done.append(Finished(job, result=future.result()))
        return done

    def abandon(self) -> None:
        """Drop the jobs not begun, wait for the one running (the caller makes sure it ends
        soon), and forget every result not yet collected."""
        futures = [future for _job, future in self._handed]
        self._handed.clear()
        for future in futures:
            future.cancel()
        wait_for_futures(futures)
        self._halted.clear()

    def close(self) -> None:
        self.abandon()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _append(self, job: Job) -> Result:
        """In the append thread."""
        if self._halted.is_set():
            raise _Halted
        try:
            return self._work(job)
        except Exception:  # the worker re-raises it in its own thread
            self._halted.set()
            raise


def _call(wake: Callable[[], None]) -> None:
    try:
        wake()
    except Exception:  # the worker still finds the result on its next look
        log.exception("could not wake the worker's broker thread")
