"""The stage-one helper process, seen from the worker: requests in, futures of answers out.

Why not a ProcessPoolExecutor: with one, `pointsledger bench ingest` measured the worker's
peak memory at 153 MB, over its 150 MB target (this design: as before it, 131-135 MB). A pool
that spawns its process needs named semaphores, and with them a resource-tracker process (13 MB
on its own); its child runs the worker's `__main__` again (under `pointsledger consume`, the
whole CLI); and every request stays in the pool until it is answered. A forked pool would copy
the worker's whole memory, and its threads' locks.
So the helper is a plain `python -m ledger.worker.helper` on two private pipes, one request and
one answer per frame (wire.py), in order; what the pool would give is kept: a Future per request,
a timeout on it (the caller's), and every unanswered future failed with HelperEnded when the
helper ends.

A writer thread writes the requests and a reader thread resolves the futures, so no caller ever
waits on a pipe: a helper that stopped reading (wedged) holds up only the writer, and killing it
ends both threads.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from typing import IO

from ledger.worker.wire import read_frame, write_frame

HELPER_COMMAND = (sys.executable, "-m", "ledger.worker.helper")


class HelperEnded(Exception):
    """The helper process ended (it died, was killed or closed) before it answered."""


class HelperProcess:
    def __init__(self) -> None:
        """Starts the process (OSError if it cannot)."""
        self._process = subprocess.Popen(  # noqa: S603 (our interpreter, our module)
            HELPER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._process.stdin is not None and self._process.stdout is not None
        # Requests not yet written; None closes the helper's stdin, which ends it.
        self._to_write: queue.SimpleQueue[tuple[Future[bytes], bytes] | None] = \
            queue.SimpleQueue()
        # Written and not yet answered, in the order written (the helper answers in that order).
        self._to_answer: deque[Future[bytes]] = deque()
        self._ended = False
        # Held while `_ended` or `_to_answer` changes, never while waiting on a pipe.
        self._guard = threading.Lock()
        self._threads = [
            threading.Thread(target=self._write, args=(self._process.stdin,),
                             name="stage-one-writer", daemon=True),
            threading.Thread(target=self._read, args=(self._process.stdout,),
                             name="stage-one-reader", daemon=True)]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, request: bytes) -> Future[bytes]:
        """The future answer; HelperEnded if the helper has ended already."""
        answer: Future[bytes] = Future()
        with self._guard:
            if self._ended:
                raise HelperEnded("the stage-one helper has ended")
            self._to_write.put((answer, request))
        return answer

    def close(self, timeout_s: float) -> None:
        """Let the helper answer what it was sent, then end; kill it if that takes longer."""
        self._to_write.put(None)
        try:
            self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self._join()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        self._process.wait()
        self._to_write.put(None)  # a writer waiting for work ends too
        self._join()

    def _join(self) -> None:
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()

    def _write(self, stream: IO[bytes]) -> None:
        try:
            while (item := self._to_write.get()) is not None:
                answer, request = item
                if not answer.set_running_or_notify_cancel():
                    continue  # dropped before it was sent
                with self._guard:
                    if self._ended:
                        answer.set_exception(HelperEnded("the stage-one helper has ended"))
                        continue
                    self._to_answer.append(answer)
                write_frame(stream, request)
        except OSError:  # the helper ended
            self._end()
        finally:
            with contextlib.suppress(OSError):
                stream.close()

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while (answer := read_frame(stream)) is not None:
                with self._guard:
                    waiting = self._to_answer.popleft()
                waiting.set_result(answer)
        except (OSError, IndexError):  # IndexError: an answer nobody asked for
            pass
        finally:
            self._end()
            stream.close()

    def _end(self) -> None:
        """Whatever was not answered never will be."""
        ended = HelperEnded("the stage-one helper ended before it answered")
        with self._guard:
            self._ended = True
            while self._to_answer:
                self._to_answer.popleft().set_exception(ended)
            while True:
                try:
                    item = self._to_write.get_nowait()
                except queue.Empty:
                    break
                if item is not None and item[0].set_running_or_notify_cancel():
                    item[0].set_exception(ended)
        self._to_write.put(None)  # nothing more to write: the writer ends
