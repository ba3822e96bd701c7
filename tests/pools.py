"""Made ahead, removed behind: the PostgreSQL databases and RabbitMQ vhosts the tests take one each.

Each test still gets a database (or a vhost) nobody else ever used, and it is still removed after
the test. What changes is when: cloning the migrated template costs the server about half a
second of disk writes, a vhost three `rabbitmqctl` runs of about as long, and while the previous
test runs its own (mostly Python) work the server and the CLI would otherwise sit idle. One
thread per pool makes the next ones while a test runs and removes the used ones after it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

# How many a pool keeps ready. Two covers a test that takes two (a backup, a second vhost).
AHEAD = 2
# A test waits this long for its database or vhost before it fails saying why.
TAKE_TIMEOUT_S = 120.0
JOIN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class _Remove:
    name: str


_MAKE = object()
_STOP = object()


class Pool:
    """Names made by `make()` before they are asked for, and given to `remove` after use.

    One thread does both, in the order asked: so a made name's removal never races its making,
    and the server sees one statement at a time from the pool, as it did from the tests."""

    def __init__(self, what: str, make: Callable[[], str], remove: Callable[[str], None]) -> None:
        self._what = what
        self._make = make
        self._remove = remove
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._work: queue.Queue[object] = queue.Queue()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"pool-{what}", daemon=True)
        for _ in range(AHEAD):
            self._work.put(_MAKE)
        self._thread.start()

    def take(self) -> str:
        """A fresh name of the pool's own (raises what making it raised)."""
        self._work.put(_MAKE)  # the one that replaces it, made while the test runs
        try:
            made = self._ready.get(timeout=TAKE_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError(f"no {self._what} was made within {TAKE_TIMEOUT_S:.0f} s") from None
        if isinstance(made, BaseException):
            raise RuntimeError(f"making a {self._what} failed: {made}") from made
        return made

    def give_back(self, name: str) -> None:
        """Removed by the pool's thread, after the test."""
        self._work.put(_Remove(name))

    def close(self) -> None:
        """Removes what is ready and what was given back, then ends the thread."""
        self._closing = True  # what is still to be made is not made
        self._work.put(_STOP)
        self._thread.join(JOIN_TIMEOUT_S)
        while True:
            try:
                made = self._ready.get_nowait()
            except queue.Empty:
                return
            if isinstance(made, str):
                self._remove(made)

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            try:
                if isinstance(item, _Remove):
                    self._remove(item.name)
                elif not self._closing:
                    self._ready.put(self._make())
            except Exception as error:  # said by take(); a removal that failed leaves it be
                if isinstance(item, _Remove):
                    continue  # what could not be removed is left; nothing waits on it
                self._ready.put(error)
