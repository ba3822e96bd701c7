"""A slow network between a process under test and a server: a TCP relay on loopback that
forwards what the client sends at a fixed rate (the server's answers go back unhindered).

A fault test that must act while a publisher has messages in flight cannot rely on catching a
fast publisher at the right millisecond; over this relay a chunk takes seconds to cross."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

from tests.loopback import accept_until, loopback_listener

READ_SIZE_BYTES = 4096


class ThrottledRelay:
    def __init__(self, target: tuple[str, int], client_bytes_per_s: int) -> None:
        self._target = target
        self._seconds_per_byte = 1.0 / client_bytes_per_s
        self._listener = loopback_listener()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.port: int = self._listener.getsockname()[1]
        self._start(accept_until, self._listener, self._closed, self._relay)

    def idle(self) -> bool:
        """No byte is in transit: every relayed connection has closed both ways."""
        with self._lock:
            forwarders = self._threads[1:]
        return not any(thread.is_alive() for thread in forwarders)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def _start(self, target: Callable[..., None], *arguments: object) -> None:
        thread = threading.Thread(target=target, args=arguments, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self._target)
        with self._lock:
            self._sockets += [client, server]
        self._start(self._forward, client, server, self._seconds_per_byte)
        self._start(self._forward, server, client, 0.0)

    @staticmethod
    def _forward(source: socket.socket, sink: socket.socket, seconds_per_byte: float) -> None:
        """Copy until either side closes, then close the other direction too (a client that
        dies is seen by the server as a dropped connection, as without the relay)."""
        try:
            while chunk := source.recv(READ_SIZE_BYTES):
                if seconds_per_byte:
                    time.sleep(len(chunk) * seconds_per_byte)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def throttled_relay(target: tuple[str, int], client_bytes_per_s: int) -> Iterator[ThrottledRelay]:
    relay = ThrottledRelay(target, client_bytes_per_s)
    try:
        yield relay
    finally:
        relay.close()
