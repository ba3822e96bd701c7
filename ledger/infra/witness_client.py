"""The HTTP side of asking a witness to cosign (C2SP tlog-witness): one `POST <url>/add-checkpoint`
and whatever comes back, undecided. What an answer means is `ledger.service.witnessing`'s work.

Every request is bounded as a whole, not only per socket read: a witness that trickles its answer
must not hold its asking thread (nor the process's stop) longer than `timeout_s`. No redirect is
followed: urllib would turn the POST into a GET (or refuse it), and a witness that moved is
re-registered by its operator with its new URL, never followed to another host on its word.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any, Protocol

from ledger.contract.witness_protocol import ADD_CHECKPOINT_PATH

REQUEST_TIMEOUT_S = 10.0
# A cosignature line is about a hundred bytes; a witness with several keys sends a few.
ANSWER_BYTES_MAX = 64 * 1024
READ_CHUNK_BYTES = 8 * 1024
USER_AGENT = "pointsledger-witness-client/1 (C2SP tlog-witness)"


class WitnessUnreachable(Exception):
    """No whole HTTP answer: refused, reset, timed out, a name that does not resolve, or an
    answer larger than any witness sends. The message says which, for the log."""


@dataclass(frozen=True)
class WitnessAnswer:
    """A witness's HTTP answer as it came: the status, the media type (no parameters) and the
    body."""

    status: int
    content_type: str
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is handed back as it is (an HTTPError with its status)."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: Message, newurl: str) -> None:
        return None


class WitnessClient:
    """Posts add-checkpoint requests; one instance per asking thread (the opener keeps no
    connection between requests, so nothing is shared)."""

    def __init__(self, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._opener = urllib.request.build_opener(_NoRedirects())

    def add_checkpoint(self, base_url: str, body: bytes) -> WitnessAnswer:
        """POST `body` to `<base_url>/add-checkpoint`; the answer whatever its status, or
        WitnessUnreachable."""
        deadline = time.monotonic() + self.timeout_s
        request = urllib.request.Request(  # noqa: S310 (an http(s) URL checked at registration)
            base_url + ADD_CHECKPOINT_PATH, data=body, method="POST",
            headers={"User-Agent": USER_AGENT, "Content-Type": "text/plain; charset=utf-8"})
        try:
            try:
                response = self._opener.open(request, timeout=self.timeout_s)
            except urllib.error.HTTPError as error:  # a status other than 2xx: still an answer
                with error:
                    return _answer(error.code, error.headers, error, deadline)
            with response:
                return _answer(response.status, response.headers, response, deadline)
        except urllib.error.URLError as error:
            raise WitnessUnreachable(_why(error.reason)) from None
        except (OSError, http.client.HTTPException) as error:
            raise WitnessUnreachable(_why(error)) from None


def _answer(status: int, headers: Message, body: _Body, deadline: float) -> WitnessAnswer:
    return WitnessAnswer(status, headers.get_content_type() if headers else "",
                         _read_bounded(body, deadline))


class _Body(Protocol):
    def read1(self, size: int = ..., /) -> bytes: ...


def _read_bounded(body: _Body, deadline: float) -> bytes:
    chunks: list[bytes] = []
    length = 0
    # read1: what has come so far, so that the deadline is looked at between arrivals.
    while chunk := body.read1(READ_CHUNK_BYTES):
        length += len(chunk)
        if length > ANSWER_BYTES_MAX:
            raise WitnessUnreachable(f"the answer is larger than {ANSWER_BYTES_MAX} bytes")
        if time.monotonic() > deadline:
            raise WitnessUnreachable("the answer did not arrive whole in time")
        chunks.append(chunk)
    return b"".join(chunks)


def _why(reason: Any) -> str:
    """A short reason, never the error's own text past its kind: that may quote the URL, and
    the URL may carry a password in its user part."""
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(reason, http.client.RemoteDisconnected | ConnectionResetError):
        return "the connection was closed before an answer"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return "the URL cannot be used" if isinstance(reason, str) else type(reason).__name__
