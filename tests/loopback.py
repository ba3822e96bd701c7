"""Loopback TCP servers for the fault tests (a silent broker, a throttled relay): a listener on
a free port, and the loop that takes its connections until the server is closed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

# How soon the accept loop notices that its server was closed.
ACCEPT_POLL_S = 0.1


def loopback_listener() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(ACCEPT_POLL_S)
    return listener


def accept_until(listener: socket.socket, closed: threading.Event,
                 handle: Callable[[socket.socket], None]) -> None:
    """Hands each connection to `handle` until `closed` is set or the listener is closed."""
    while not closed.is_set():
        try:
            client, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        handle(client)
