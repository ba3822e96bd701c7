"""A thread that appends the consumer's batches one after another, in the order handed over.

The broker connection's thread hands each batch over as soon as it is cut and goes on receiving
while the batch waits for its verdicts and for the database; it settles (acks) the results as
they come back, in the same order. After a failure the thread appends nothing more until the
consumer, which re-raises the failure, has `abandon`ed the rest: a later batch appended before
an earlier one could record a revocation before the award it withdraws.

Only the thread that owns the broker connection calls these methods.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finished(Generic[Job, Result]):
    job: Job
    result: Result | None = None
    error: Exception | None = None


class AppendThread(Generic[Job, Result]):
    def __init__(self, work: Callable[[Job], Result], name: str = "append") -> None:
        self._work = work
        self._name = name
        self._changed = threading.Condition()
        self._waiting: deque[tuple[Job, Callable[[], None]]] = deque()
        self._finished: deque[Finished[Job, Result]] = deque()
        self._running = False
        self._halted = False
        self._closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def hand_over(self, job: Job, wake: Callable[[], None]) -> None:
        """Queue a job; `wake()` is called from the thread once it is finished."""
        with self._changed:
            self._waiting.append((job, wake))
            self._changed.notify_all()

    def finished(self) -> list[Finished[Job, Result]]:
        """The jobs finished since the last call, in the order they were handed over."""
        with self._changed:
            done = list(self._finished)
            self._finished.clear()
            return done

    def abandon(self) -> None:
        """Drop the jobs not begun, wait for the one running (the caller makes sure it ends
        soon), and forget every result not yet collected."""
        with self._changed:
            self._waiting.clear()
            while self._running:
                self._changed.wait()
            self._finished.clear()
            self._halted = False

    def close(self) -> None:
        self.abandon()
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closing and (self._halted or not self._waiting):
                    self._changed.wait()
                if self._closing:
                    return
                job, wake = self._waiting.popleft()
                self._running = True
            try:
                finished = Finished[Job, Result](job, result=self._work(job))
            except Exception as error:  # the consumer re-raises it in its own thread
                finished = Finished(job, error=error)
            with self._changed:
                self._running = False
                self._halted = finished.error is not None
                self._finished.append(finished)
                self._changed.notify_all()
            try:
                wake()
            except Exception:  # the consumer still finds the result on its next look
                log.exception("could not wake the consumer's broker thread")
