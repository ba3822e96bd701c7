"""A broker that hangs: a TCP server on loopback that accepts every connection and never says a
word, as a wedged RabbitMQ (or a proxy in front of a dead one) does.

Unlike a closed port, which refuses at once, it leaves the client waiting for the AMQP
handshake: only the client's own timeouts end the wait."""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from collections.abc import Iterator

from tests.loopback import accept_until, loopback_listener


class SilentBroker:
    def __init__(self) -> None:
        self._listener = loopback_listener()
        self._closed = threading.Event()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port: int = self._listener.getsockname()[1]
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self._thread = threading.Thread(
            target=functools.partial(accept_until, self._listener, self._closed, self._hold),
            daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        """How many connections it has taken (and held): proof the client got this far."""
        with self._lock:
            return len(self._held)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for sock in self._held:
                sock.close()

    def _hold(self, client: socket.socket) -> None:
        # Held open and never read nor written: the client's protocol header sits in the
        # socket's buffer, unanswered, until the client gives up or the test ends.
        with self._lock:
            self._held.append(client)


@contextlib.contextmanager
def silent_broker() -> Iterator[SilentBroker]:
    broker = SilentBroker()
    try:
        yield broker
    finally:
        broker.close()
