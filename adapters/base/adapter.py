"""The adapter contract, and running one: source → intake → outbox → pump → transport.

An adapter is a package under `adapters/` with a `mapping` (native record → PointChange), a way
of receiving records (a Source) and a simulator. Adding a platform is one such package and its
line in `adapters.registry`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

from adapters.base.intake import Intake
from adapters.base.pump import OutboxPump

log = logging.getLogger(__name__)

Notify = Callable[[], None]


class Source(Protocol):
    """Receives native records until `stop` is set, hands them to `intake.accept`, and calls
    `notify()` after records were accepted so the pump publishes them at once."""

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None: ...


class AdapterProcess:
    """One adapter process: the source in the calling thread, the pump (and the notice
    listener, if any) in their own threads. SIGTERM or SIGINT stop all of them."""

    def __init__(self, source: Source, intake: Intake, pump: OutboxPump,
                 background: Sequence[Callable[[threading.Event], None]] = ()) -> None:
        self._source = source
        self._intake = intake
        self._pump = pump
        self._background = list(background)
        self.stop_event = threading.Event()

    def run(self, install_signal_handlers: bool = True) -> None:
        if install_signal_handlers:
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, self._on_signal)
        pump_thread = threading.Thread(target=self._pump.run, name="outbox-pump", daemon=True)
        pump_thread.start()
        others = [threading.Thread(target=task, args=(self.stop_event,), daemon=True)
                  for task in self._background]
        for thread in others:
            thread.start()
        try:
            self._source.run(self._intake, self.stop_event, self._pump.wake)
        finally:
            self.stop_event.set()
            self._pump.stop()
            pump_thread.join()
            for thread in others:
                thread.join()
        log.info("adapter %s stopped", self._intake.platform)

    def _on_signal(self, _number: int, _frame: FrameType | None) -> None:
        self.stop_event.set()


class SourceOptions(Protocol):
    """What `pointsledger adapter run` was given; each adapter uses the options of its kind."""

    listen: tuple[str, int] | None  # --listen HOST:PORT (push adapters)
    inbox: str | None  # --inbox DIR (file drops)
    url: str | None  # --url BASE (polling)
    interval_s: float  # --interval S (polling and inbox scans)
    notify_url: str | None  # --notify-url URL (where the platform takes the ledger's notices)
    notices_dir: str | None  # --notices-dir DIR (file-exchanging platforms)
