"""The HTTP of asking a witness (ledger.infra.witness_client): any status comes back as an
answer, a redirect is never followed (above all not to another host), an answer is bounded in
size and in time, and the request says who is asking."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ledger.infra.witness_client import (
    ANSWER_BYTES_MAX,
    USER_AGENT,
    WitnessClient,
    WitnessUnreachable,
)


class Scripted(ThreadingHTTPServer):
    """Answers every request with `status`, `headers` and `body`, keeping what it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 200
        self.headers: dict[str, str] = {"Content-Type": "text/plain"}
        self.body = b""
        self.trickle_s = 0.0
        self.received: list[tuple[str, str, str, bytes]] = []  # method, path, UA, body

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append((self.command, self.path,
                                     self.headers.get("User-Agent", ""),
                                     self.rfile.read(length)))
        self.send_response(self.server.status)
        for name, value in self.server.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if self.server.trickle_s:
                for byte in self.server.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(self.server.trickle_s)
            else:
                self.wfile.write(self.server.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        self._any()

    def do_GET(self) -> None:  # what a followed 303 would have become
        self._any()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    thread = threading.Thread(target=scripted.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.shutdown()
    scripted.server_close()
    thread.join()


def test_any_status_is_an_answer_and_the_request_says_who_asks(server: Scripted) -> None:
    server.status, server.body = 409, b"7\n"
    server.headers = {"Content-Type": "text/x.tlog.size", "Content-Length": "2"}
    answer = WitnessClient().add_checkpoint(server.url + "/prefix", b"old 0\n\nnote")
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"7\n")
    assert server.received == [("POST", "/prefix/add-checkpoint", USER_AGENT, b"old 0\n\nnote")]


def test_a_redirect_is_not_followed(server: Scripted) -> None:
    elsewhere = Scripted()
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        for status in (301, 302, 303, 307, 308):
            server.status = status
            server.headers = {"Location": elsewhere.url + "/add-checkpoint",
                              "Content-Length": "0"}
            answer = WitnessClient().add_checkpoint(server.url, b"old 0\n\nnote")
            assert answer.status == status
        assert elsewhere.received == []
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()


def test_an_answer_is_bounded_in_size_and_in_time(server: Scripted) -> None:
    server.body = b"x" * (ANSWER_BYTES_MAX + 1)
    with pytest.raises(WitnessUnreachable, match="larger than"):
        WitnessClient().add_checkpoint(server.url, b"")
    # Each byte comes well within the socket timeout, the whole never within the request's.
    server.body, server.trickle_s = b"y" * 200, 0.01
    started = time.monotonic()
    with pytest.raises(WitnessUnreachable, match="did not arrive whole in time"):
        WitnessClient(timeout_s=0.5).add_checkpoint(server.url, b"")
    assert time.monotonic() - started < 1.5


def test_no_answer_says_why_without_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WitnessUnreachable, match=r"^connection refused$"):
        WitnessClient().add_checkpoint(f"http://127.0.0.1:{port}", b"")
    with pytest.raises(WitnessUnreachable, match=r"^the host name does not resolve$"):
        WitnessClient().add_checkpoint("http://witness.invalid", b"")
    # urllib takes no password in a URL: it says so, without repeating the URL.
    with pytest.raises(WitnessUnreachable) as refused:
        WitnessClient().add_checkpoint(f"http://user:secret@127.0.0.1:{port}", b"")
    assert "secret" not in str(refused.value)
