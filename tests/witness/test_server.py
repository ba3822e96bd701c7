"""The witness over HTTP, end to end with real requests: POST /add-checkpoint answered with the
spec's statuses, content types and bodies; each answer named by its `X-Request-Id` (SPEC §15)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.note import add_signatures
from ledger.contract.witness_protocol import (
    ADD_CHECKPOINT_PATH,
    SIZE_CONTENT_TYPE,
    parse_cosignature_response,
    parse_size_body,
)
from ledger.runtime.log_format import JSON, TEXT
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from ledger.witness.decision import log_keys
from ledger.witness.server import REQUEST_BODY_BYTES_MAX, WitnessServer
from ledger.witness.service import Witness
from ledger.witness.state import LogStates
from tests.api.support import ID_NUMBER
from tests.ops.log_capture import captured_logs, json_lines
from tests.witness.support import ORIGIN, Log, new_log, new_witness_key, witness_verifier

WITNESS = new_witness_key()
REQUEST_TIMEOUT_S = 10
# How often the served thread looks for shutdown (the default half second, per test, adds up).
SHUTDOWN_POLL_S = 0.02


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    request_id: str | None


@pytest.fixture
def log() -> Log:
    return new_log()


@pytest.fixture
def served(log: Log, tmp_path: Path) -> Iterator[str]:
    """The base URL of a witness of `log` on a free port, served from a thread."""
    logs = log_keys([log.vkey])
    server = WitnessServer(("127.0.0.1", 0), Witness(WITNESS, logs, LogStates(tmp_path, logs)))
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_S,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def post(url: str, body: bytes, path: str = ADD_CHECKPOINT_PATH, method: str = "POST",
         headers: dict[str, str] | None = None) -> Reply:
    request = urllib.request.Request(url + path, data=body if method == "POST" else None,
                                     method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return Reply(response.status, response.headers["Content-Type"], response.read(),
                         response.headers[REQUEST_ID_HEADER])
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers["Content-Type"], error.read(),
                         error.headers[REQUEST_ID_HEADER])


def test_a_checkpoint_is_cosigned_over_http(log: Log, served: str) -> None:
    note = log.checkpoint(5)
    reply = post(served, log.request(0, 5, note=note))
    assert reply.status == 200
    cosigned = add_signatures(note, parse_cosignature_response(reply.body))
    checkpoint, _ = open_checkpoint(cosigned, ORIGIN, log.verifier(), [witness_verifier(WITNESS)])
    assert checkpoint.size == 5
    assert post(served, log.request(5, 11)).status == 200


def test_a_stale_old_size_is_answered_409_with_the_size_as_text(log: Log, served: str) -> None:
    post(served, log.request(0, 5))
    reply = post(served, log.request(0, 7))
    assert (reply.status, reply.content_type) == (409, SIZE_CONTENT_TYPE)
    assert parse_size_body(reply.body) == 5


def test_each_refusal_has_the_spec_status_and_a_problem_document(log: Log, served: str) -> None:
    post(served, log.request(0, 5))
    fork = Log(log.signer, history="rewritten")
    cases = {
        400: b"old 0\n",
        403: new_log().request(5, 7),
        404: new_log("example.org/stranger").request(0, 3),
        422: log.request(5, 7, proof=log.proof(5, 7)[:-1]),
    }
    for status, body in cases.items():
        reply = post(served, body)
        assert (reply.status, reply.content_type) == (status, "application/problem+json")
        assert json.loads(reply.body)["status"] == status
    assert post(served, fork.request(5, 5)).status == 409


def test_only_post_add_checkpoint_is_served(served: str) -> None:
    assert post(served, b"old 0\n\n", path="/cosign").status == 404
    reply = post(served, b"", method="GET")
    assert reply.status == 405


@pytest.mark.parametrize("length", [b"", b"\xb2", b"-1", b"12 "])
def test_a_content_length_that_is_not_a_number_is_a_bad_request(served: str,
                                                                 length: bytes) -> None:
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT_S) as connection:
        connection.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: witness\r\n"
                           b"Content-Length: " + length + b"\r\n\r\nold 0\n\n")
        with connection.makefile("rb") as response:
            status_line = response.readline()
    assert status_line.split()[1] == b"400"


def test_a_body_beyond_the_limit_is_refused_unread(served: str) -> None:
    reply = post(served, b"x" * (REQUEST_BODY_BYTES_MAX + 1))
    assert reply.status == 413


def test_one_connection_carries_several_requests(log: Log, served: str) -> None:
    connection = http.client.HTTPConnection(served.removeprefix("http://"),
                                            timeout=REQUEST_TIMEOUT_S)
    sockets = set()
    try:
        for old, size, status in [(0, 3, 200), (3, 9, 200), (3, 9, 409), (9, 9, 200)]:
            connection.request("POST", ADD_CHECKPOINT_PATH, body=log.request(old, size))
            response = connection.getresponse()
            response.read()
            assert response.status == status
            sockets.add(id(connection.sock))
    finally:
        connection.close()
    assert len(sockets) == 1


# -- X-Request-Id ------------------------------------------------------------------------------

def test_every_answer_carries_a_new_request_id(log: Log, served: str) -> None:
    replies = [post(served, log.request(0, 5)), post(served, log.request(0, 7)),
               post(served, b"old 0\n"), post(served, b"", method="GET"),
               post(served, b"", path="/cosign"), post(served, b"", method="PUT")]
    assert [reply.status for reply in replies] == [200, 409, 400, 405, 404, 501]
    request_ids = [reply.request_id for reply in replies]
    assert all(request_id is not None and len(request_id) == 32 for request_id in request_ids)
    assert len(set(request_ids)) == len(replies)


@pytest.mark.parametrize("sane", ["abc", "ledger-checkpointer.42", "a" * 64])
def test_a_sane_request_id_is_kept(log: Log, served: str, sane: str) -> None:
    assert post(served, log.request(0, 5), headers={REQUEST_ID_HEADER: sane}).request_id == sane


@pytest.mark.parametrize("insane", [ID_NUMBER, f"req-{ID_NUMBER}", "13812345678",
                                    "plt_AbCdEf0123456789", "a" * 65, "has space"])
def test_an_insane_request_id_is_replaced_never_echoed(log: Log, served: str,
                                                        insane: str) -> None:
    reply = post(served, log.request(0, 5), headers={REQUEST_ID_HEADER: insane})
    assert reply.status == 200
    assert reply.request_id != insane and len(reply.request_id or "") == 32


@pytest.mark.parametrize("log_format", [TEXT, JSON])
def test_the_lines_logged_while_answering_carry_the_answers_id(log: Log, served: str,
                                                               log_format: str) -> None:
    with captured_logs(log_format) as stream:
        cosigned = post(served, log.request(0, 5), headers={REQUEST_ID_HEADER: "checkpointer.1"})
        refused = post(served, log.request(0, 7))
    expected = ["checkpointer.1", refused.request_id]
    assert cosigned.request_id == "checkpointer.1"
    if log_format == JSON:
        lines = [line for line in json_lines(stream)
                 if line["logger"] == "ledger.witness.service"]
        assert [line.get("request_id") for line in lines] == expected
        assert lines[1]["msg"].startswith("refused a checkpoint")
    else:
        lines = [line for line in stream.getvalue().splitlines()
                 if " ledger.witness.service " in line]
        assert [line.split(" request_id=")[1].split(":")[0] for line in lines] == expected


def test_no_request_id_lingers_on_a_kept_alive_connection(log: Log, served: str) -> None:
    """The thread answers the next request of the connection: a request too malformed to be
    named gets a new id, not the one before it."""
    host, port = served.removeprefix("http://").split(":")
    body = log.request(0, 5)
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT_S) as connection:
        connection.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: witness\r\n"
                           + f"{REQUEST_ID_HEADER}: first.1\r\n".encode()
                           + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                           + b"GET / HTTP/1.1\r\nX-Padding: " + b"a" * 70_000 + b"\r\n\r\n")
        with connection.makefile("rb") as stream:
            received = stream.read()  # the 431 closes the connection
    statuses = re.findall(rb"^HTTP/1.1 ([0-9]+) ", received, re.MULTILINE)
    request_ids = re.findall(rb"^X-Request-Id: (.*)\r$", received, re.MULTILINE)
    assert statuses == [b"200", b"431"]
    assert request_ids[0] == b"first.1"
    assert len(request_ids[1]) == 32
