"""An adapter's webhooks name each request (SPEC §15): every answer carries `X-Request-Id` (the
platform's own when sane, else a new one), and so do the lines logged while answering it and
the server's access line."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

import adapters.lijiayuan as lijiayuan
from adapters.base.http_source import HttpSource, webhook_app
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.records import NativeRecord
from adapters.lijiayuan.simulator import native_record
from ledger.contract.signing import EventSigner
from ledger.runtime.log_format import JSON, TEXT
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.adapters.contract import NOW
from tests.api.support import ID_NUMBER
from tests.ops.log_capture import captured_logs, json_lines

WEBHOOK = "/webhook"
PARSER_LOGGER = "test.webhook.parser"
REQUEST_TIMEOUT_S = 10
DAY = NOW - timedelta(days=1)


def logging_parser(body: bytes, prefix: str) -> list[NativeRecord]:
    """The platform's parser, which says what it reads (as it answers the request)."""
    logging.getLogger(PARSER_LOGGER).info("reading %d bytes", len(body))
    return lijiayuan.native_records(body, prefix)


@pytest.fixture
def intake(tmp_path: Path, key_pair_signer: EventSigner) -> Iterator[Intake]:
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", lijiayuan.PLATFORM)
    yield Intake(lijiayuan.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                 clock=lambda: NOW)
    outbox.close()


@pytest.fixture
def client(intake: Intake) -> FlaskClient:
    return webhook_app(lijiayuan.PLATFORM, WEBHOOK, logging_parser, intake,
                       lambda: None).test_client()


@pytest.fixture
def body(resident_id: str) -> bytes:
    return lijiayuan.payload([native_record("W1", resident_id, "LJFL", 2, DAY)])


def test_every_answer_carries_a_new_request_id(client: FlaskClient, body: bytes) -> None:
    answers = [client.post(WEBHOOK, data=body), client.post(WEBHOOK, data=body),
               client.post(WEBHOOK, data=b"not json"), client.get("/healthz"),
               client.get("/nothing"), client.post(WEBHOOK, data=b"x" * (2 << 20))]
    assert [answer.status_code for answer in answers] == [200, 200, 400, 200, 404, 413]
    request_ids = [answer.headers[REQUEST_ID_HEADER] for answer in answers]
    assert all(len(request_id) == 32 for request_id in request_ids)
    assert len(set(request_ids)) == len(answers)


@pytest.mark.parametrize("sane", ["abc", "lijiayuan-push.7_retry", "a" * 64,
                                  "550e8400-e29b-41d4-a716-446655440000"])
def test_the_platforms_sane_request_id_is_kept(client: FlaskClient, body: bytes,
                                               sane: str) -> None:
    answer = client.post(WEBHOOK, data=body, headers={REQUEST_ID_HEADER: sane})
    assert (answer.status_code, answer.headers[REQUEST_ID_HEADER]) == (200, sane)


@pytest.mark.parametrize("insane", [ID_NUMBER, f"req-{ID_NUMBER}", "13812345678",
                                    "plt_AbCdEf0123456789", "a" * 65, "has space"])
def test_an_insane_request_id_is_replaced_never_echoed(client: FlaskClient, body: bytes,
                                                        insane: str) -> None:
    answer = client.post(WEBHOOK, data=body, headers={REQUEST_ID_HEADER: insane})
    answered = answer.headers[REQUEST_ID_HEADER]
    assert answer.status_code == 200
    assert answered != insane and len(answered) == 32


def _post(port: int, body: bytes, headers: dict[str, str]) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{WEBHOOK}", data=body,
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as answer:
        request_id: str = answer.headers[REQUEST_ID_HEADER]
        return request_id


@pytest.mark.parametrize("log_format", [TEXT, JSON])
def test_the_lines_logged_while_answering_and_the_access_line_carry_the_answers_id(
        intake: Intake, body: bytes, log_format: str) -> None:
    source = HttpSource(lijiayuan.PLATFORM, "127.0.0.1", 0, WEBHOOK, logging_parser)
    stop = threading.Event()
    server = threading.Thread(target=source.run, args=(intake, stop, lambda: None))
    with captured_logs(log_format) as stream:
        server.start()
        try:
            assert source.ready.wait(REQUEST_TIMEOUT_S)
            assert source.bound_port is not None
            expected = [_post(source.bound_port, body, {REQUEST_ID_HEADER: "push.7"}),
                        _post(source.bound_port, body, {})]
        finally:
            stop.set()
            server.join()
    assert expected[0] == "push.7"
    if log_format == JSON:
        lines = json_lines(stream)
        read = [line for line in lines if line["logger"] == PARSER_LOGGER]
        accessed = [line for line in lines if f"POST {WEBHOOK} " in line["msg"]]
        assert [line.get("request_id") for line in read] == expected
        assert [line.get("request_id") for line in accessed] == expected
    else:
        lines = stream.getvalue().splitlines()
        read = [line for line in lines if f" {PARSER_LOGGER} " in line]
        accessed = [line for line in lines if f"POST {WEBHOOK} " in line]
        for request_id, read_line, access_line in zip(expected, read, accessed, strict=True):
            assert f" request_id={request_id}: reading " in read_line
            assert f" werkzeug request_id={request_id}: " in access_line
