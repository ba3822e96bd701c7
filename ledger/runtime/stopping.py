"""A stop request that a signal handler may make, and waits that it cuts short (the consumer, the
checkpointer, the notice relay)."""

from __future__ import annotations

import threading
import time

# How soon a wait notices a stop request.
STOP_POLL_S = 0.2


class StopRequest:
    """Set from a signal handler or another thread.

    A plain attribute, not a threading.Event: setting an Event takes a lock, and a signal
    handler that interrupted the main thread inside that same lock would wait for itself.
    """

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def sleep(self, delay_s: float) -> bool:
        """Wait about `delay_s`; False, early, once a stop is requested."""
        return self.wait(delay_s, None)

    def wait(self, delay_s: float, give_up: threading.Event | None) -> bool:
        """Wait about `delay_s`; False, early, once a stop is requested or `give_up` is set."""
        deadline = time.monotonic() + delay_s
        while not self.requested and (remaining_s := deadline - time.monotonic()) > 0:
            step_s = min(remaining_s, STOP_POLL_S)
            if give_up is None:
                time.sleep(step_s)
            elif give_up.wait(step_s):
                return False
        return not self.requested
