"""The adapter contract, and running one: source → intake → outbox → pump → transport.

An adapter is a package under `adapters/` with a `mapping` (native record → PointChange), a way
of receiving records (a Source) and a simulator. Adding a platform is one such package and its
line in `adapters.registry`.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

from adapters.base.failures import AdapterFailed, described, masked_traceback
from adapters.base.intake import Intake
from adapters.base.pump import OutboxPump
from ledger.runtime.stopping import STOP_POLL_S, StopRequest

log = logging.getLogger(__name__)

Notify = Callable[[], None]


class Source(Protocol):
    """Receives native records until `stop` is set, hands them to `intake.accept`, and calls
    `notify()` after records were accepted so the pump publishes them at once."""

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None: ...


class AdapterProcess:
    """One adapter process: the source, the pump (and the notice listener, if any) each in a
    thread of its own. SIGTERM or SIGINT stop all of them: the signal handler only raises a flag
    (setting the stop Event there takes the Event's lock, which the interrupted main thread may
    be holding), and the main thread, which waits for the source, turns it into the Event.

    A thread that fails stops all of them too, and `run` then raises AdapterFailed (the command
    exits non-zero): an adapter never goes on receiving records with its pump or its notice
    listener dead. What each thread can wait out, it retries itself (adapters.base.failures).
    """

    def __init__(self, source: Source, intake: Intake, pump: OutboxPump,
                 background: Sequence[Callable[[threading.Event], None]] = ()) -> None:
        self._source = source
        self._intake = intake
        self._pump = pump
        self._background = list(background)
        self.stop_event = threading.Event()
        self._signalled = StopRequest()
        self._failures: list[tuple[str, BaseException]] = []
        self._failures_lock = threading.Lock()

    def run(self, install_signal_handlers: bool = True) -> None:
        if install_signal_handlers:
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, self._on_signal)
        threads = [self._thread("outbox-pump", self._pump.run)]
        threads += [self._thread(f"background-{index}", functools.partial(task, self.stop_event))
                    for index, task in enumerate(self._background, start=1)]
        source = self._thread("source", functools.partial(
            self._source.run, self._intake, self.stop_event, self._pump.wake))
        for thread in [*threads, source]:
            thread.start()
        try:
            while source.is_alive():
                if self._signalled.requested:
                    self.stop_event.set()
                source.join(STOP_POLL_S)
        finally:
            self.stop_event.set()
            self._pump.stop()
            for thread in [source, *threads]:
                thread.join()
        if self._failures:
            name, failure = self._failures[0]
            raise AdapterFailed(f"adapter {self._intake.platform} stopped: its {name} failed "
                                f"({described(failure)})") from failure
        log.info("adapter %s stopped", self._intake.platform)

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        def guarded() -> None:
            try:
                target()
            except BaseException as error:
                self._failed(name, error)

        return threading.Thread(target=guarded, name=name, daemon=True)

    def _failed(self, name: str, error: BaseException) -> None:
        """Note the first failure and stop every thread; the rest stop because of it."""
        with self._failures_lock:
            first = not self._failures
            self._failures.append((name, error))
        if first:
            log.critical("the adapter's %s failed; stopping the adapter so that its supervisor "
                         "restarts it:\n%s", name, masked_traceback(error))
        self.stop_event.set()
        self._pump.stop()

    def _on_signal(self, _number: int, _frame: FrameType | None) -> None:
        self._signalled.request()


class SourceOptions(Protocol):
    """What `pointsledger adapter run` was given; each adapter uses the options of its kind."""

    listen: tuple[str, int] | None  # --listen HOST:PORT (push adapters)
    inbox: str | None  # --inbox DIR (file drops)
    url: str | None  # --url BASE (polling)
    interval_s: float  # --interval S (polling and inbox scans)
    notify_url: str | None  # --notify-url URL (where the platform takes the ledger's notices)
    notices_dir: str | None  # --notices-dir DIR (file-exchanging platforms)
