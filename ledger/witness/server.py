"""The witness over HTTP: `POST /add-checkpoint` (C2SP tlog-witness), one thread a connection.

Thin on purpose: it reads a bounded body and writes the `Witness`'s answer. Connections are
kept alive (HTTP/1.1), as the spec asks, unless a request's body was left unread. Every answer
carries `X-Request-Id` (the client's own when sane), and so does every line logged while
answering (SPEC §15).
"""

from __future__ import annotations

import logging
from contextvars import Token
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger.contract.witness_protocol import ADD_CHECKPOINT_PATH
from ledger.runtime.metrics import WITNESS_REQUESTS
from ledger.runtime.request_ids import REQUEST_ID_HEADER, current_request_id, request_id_for
from ledger.witness.service import Answer, Witness, problem

log = logging.getLogger(__name__)

# A checkpoint with a hundred signatures and 63 proof lines stays under 16 KiB.
REQUEST_BODY_BYTES_MAX = 64 * 1024
# A client that sends nothing for this long loses its connection (and its thread).
SOCKET_TIMEOUT_S = 30
# What is still read of a body too large before answering 413, so that a client still sending
# sees the answer rather than a reset; the connection is closed after it either way.
DRAIN_BYTES_MAX = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024


class WitnessRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server: WitnessServer
    _request_id_token: Token[str | None] | None = None

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            # The next request on this connection is answered by this thread: no id may linger.
            if self._request_id_token is not None:
                current_request_id.reset(self._request_id_token)
                self._request_id_token = None

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:  # its headers are read: the request is named before it is answered
            self._request_id_token = current_request_id.set(
                request_id_for(self.headers.get(REQUEST_ID_HEADER)))
        return parsed

    def send_response(self, code: int, message: str | None = None) -> None:
        # Every answer, a refusal of a request too malformed to be named included.
        super().send_response(code, message)
        self.send_header(REQUEST_ID_HEADER, current_request_id.get() or request_id_for(None))

    def do_POST(self) -> None:
        if self.path != ADD_CHECKPOINT_PATH:
            self._refuse(problem(HTTPStatus.NOT_FOUND, f"a witness answers {ADD_CHECKPOINT_PATH}"))
            return
        length = self.headers.get("Content-Length")
        if length is None:
            self._refuse(problem(HTTPStatus.LENGTH_REQUIRED, "the request has no Content-Length"))
        elif not (length.isascii() and length.isdigit()):
            self._refuse(problem(HTTPStatus.BAD_REQUEST, "the Content-Length is not a number"))
        elif int(length) > REQUEST_BODY_BYTES_MAX:
            self._drain(int(length))
            self._refuse(problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                 f"a request body holds at most {REQUEST_BODY_BYTES_MAX} bytes"))
        else:
            self._answer(int(length))

    def _answer(self, length: int) -> None:
        try:
            body = self.rfile.read(length)
        except (TimeoutError, ConnectionError) as error:
            log.debug("%s: the request body did not arrive: %s", self.address_string(), error)
            self.close_connection = True
            return
        if len(body) < length:  # the client hung up mid-body: nobody to answer
            self.close_connection = True
            return
        self._send(self.server.witness.add_checkpoint(body))

    def _drain(self, length: int) -> None:
        left = min(length, DRAIN_BYTES_MAX)
        try:
            while left > 0 and (chunk := self.rfile.read1(min(left, READ_CHUNK_BYTES))):
                left -= len(chunk)
        except (TimeoutError, ConnectionError):
            pass  # the answer is tried all the same; the connection closes after it

    def do_GET(self) -> None:
        if self.path == ADD_CHECKPOINT_PATH:
            self._refuse(problem(HTTPStatus.METHOD_NOT_ALLOWED, "add-checkpoint takes a POST"))
        else:
            self._refuse(problem(HTTPStatus.NOT_FOUND, f"a witness answers {ADD_CHECKPOINT_PATH}"))

    def _refuse(self, answer: Answer) -> None:
        """An answer sent without reading the body: the connection cannot serve another."""
        self.close_connection = True
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        WITNESS_REQUESTS.labels(status=str(answer.status.value)).inc()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if answer.status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "POST")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        # The refusals are logged with their reason by the Witness; the access line is detail.
        log.debug("%s " + format, self.address_string(), *args)


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, WitnessRequestHandler)
