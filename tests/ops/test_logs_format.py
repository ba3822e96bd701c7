"""Log lines an operator's collector can read (SPEC §15): POINTSLEDGER_LOG_FORMAT=json gives one
object per line with `ts`, `level`, `logger`, `msg`, the request id and the fields of the event;
every answer of the API and the console carries `X-Request-Id`, and the lines of that request
carry the same id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from ledger.api import residents as residents_api
from ledger.bootstrap import Ledger, build
from ledger.cli.main import cli
from ledger.runtime.log_format import JSON, TEXT, log_format_from_environment
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.api.support import ID_NUMBER, Tokens, bearer, create_tokens
from tests.conftest import make_settings
from tests.ops.log_capture import captured_logs, json_lines

API = "/api/v1"
LOOKUP_LOGGER = "test.lookup"


@pytest.fixture
def ledger(sqlite_url: str, tmp_path: Path) -> Iterator[Ledger]:
    """The embedded ledger alone: request ids do not depend on the database."""
    built = build(make_settings(sqlite_url, tmp_path=tmp_path))
    yield built
    built.close()


@pytest.fixture
def tokens(ledger: Ledger) -> Tokens:
    return create_tokens(ledger.sessions)


def test_json_lines_carry_time_level_logger_message_and_the_fields_of_the_event() -> None:
    before = datetime.now(UTC)
    with captured_logs(JSON) as stream:
        logging.getLogger("ledger.test").warning("platform %s is silent", "lijiayuan",
                                                 extra={"platform": "lijiayuan", "gap": 3})
    (line,) = json_lines(stream)
    assert {key: line[key] for key in ("level", "logger", "msg", "platform", "gap")} == {
        "level": "WARNING", "logger": "ledger.test", "msg": "platform lijiayuan is silent",
        "platform": "lijiayuan", "gap": 3}
    assert "request_id" not in line  # written outside any request
    written = datetime.fromisoformat(line["ts"])
    assert written.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= written <= datetime.now(UTC)


def test_a_traceback_in_a_json_line_is_one_field_of_one_line_and_redacted() -> None:
    with captured_logs(JSON) as stream:
        try:
            raise ValueError(f"no resident {ID_NUMBER}\nwith plt_secret-token")
        except ValueError:
            logging.getLogger("ledger.test").exception("lookup failed")
    (line,) = json_lines(stream)
    assert line["msg"] == "lookup failed"
    assert "ValueError: no resident 110105" in line["exc_info"]
    assert ID_NUMBER not in line["exc_info"] and "plt_secret" not in line["exc_info"]


def test_text_lines_keep_their_format() -> None:
    with captured_logs(TEXT) as stream:
        logging.getLogger("ledger.test").info("consumer: %d events", 3)
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" INFO ledger.test: consumer: 3 events")
    datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")


@pytest.mark.parametrize("value", ["xml", "JSON", " json"])
def test_a_bad_log_format_stops_every_command_with_a_sentence_naming_the_variable(
        value: str) -> None:
    result = CliRunner().invoke(cli, ["residents", "pseudonym", ID_NUMBER],
                                env={"POINTSLEDGER_LOG_FORMAT": value})
    assert result.exit_code == 2
    assert result.output.startswith("error: POINTSLEDGER_LOG_FORMAT must be text or json")
    assert "Traceback" not in result.output


def test_the_log_format_is_text_unless_json_is_asked_for() -> None:
    assert log_format_from_environment({}) == TEXT
    assert log_format_from_environment({"POINTSLEDGER_LOG_FORMAT": ""}) == TEXT
    assert log_format_from_environment({"POINTSLEDGER_LOG_FORMAT": "json"}) == JSON


# -- X-Request-Id ------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "status"), [
    ("/healthz", 200), (f"{API}/ledger/head", 401), (f"{API}/nothing/here", 404),
    (f"{API}/residents/{ID_NUMBER}", 401), ("/console/login", 200), ("/console/nothing", 404),
])
def test_every_answer_of_the_api_and_the_console_carries_a_new_request_id(
        client: FlaskClient, path: str, status: int) -> None:
    first, second = client.get(path), client.get(path)
    assert (first.status_code, second.status_code) == (status, status)
    assert len(first.headers[REQUEST_ID_HEADER]) == 32
    assert first.headers[REQUEST_ID_HEADER] != second.headers[REQUEST_ID_HEADER]


@pytest.mark.parametrize("sane", ["abc", "trace-42.retry_1", "a" * 64,
                                  "550e8400-e29b-41d4-a716-446655440000"])
def test_a_sane_request_id_is_kept(client: FlaskClient, sane: str) -> None:
    assert client.get("/healthz", headers={REQUEST_ID_HEADER: sane}).headers[
        REQUEST_ID_HEADER] == sane


@pytest.mark.parametrize("insane", [
    "a" * 65, "has space", "semi;colon", "请求", "",
    ID_NUMBER, ID_NUMBER.lower(), f"{ID_NUMBER[:6]}-{ID_NUMBER[6:14]}-{ID_NUMBER[14:]}",
    f"req-{ID_NUMBER}", "13812345678", "6222-0212-3456-7890",
    "plt_AbCdEf0123456789", "token.plt_abc",
])
def test_an_insane_request_id_is_replaced_never_echoed(client: FlaskClient,
                                                        insane: str) -> None:
    answer = client.get("/healthz", headers={REQUEST_ID_HEADER: insane})
    answered = answer.headers[REQUEST_ID_HEADER]
    assert answered != insane and len(answered) == 32


@pytest.mark.parametrize("log_format", [TEXT, JSON])
def test_the_lines_of_a_request_carry_the_id_its_answer_carries(
        client: FlaskClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch,
        log_format: str) -> None:
    def logged_pseudonym(id_number: str, pepper: str) -> str:
        logging.getLogger(LOOKUP_LOGGER).info("looking a resident up")
        return "a" * 64

    monkeypatch.setattr(residents_api, "pseudonym", logged_pseudonym)
    teller = bearer(tokens.by_role["teller"])
    with captured_logs(log_format) as stream:
        new = client.post(f"{API}/residents/lookup", json={"id_number": ID_NUMBER},
                          headers=teller)
        kept = client.post(f"{API}/residents/lookup", json={"id_number": ID_NUMBER},
                           headers={**teller, REQUEST_ID_HEADER: "counter-7.42"})
        logging.getLogger(LOOKUP_LOGGER).info("after the requests")
    assert (new.status_code, kept.status_code) == (200, 200)
    assert kept.headers[REQUEST_ID_HEADER] == "counter-7.42"
    expected = [new.headers[REQUEST_ID_HEADER], "counter-7.42", None]
    if log_format == JSON:
        lines = [line for line in json_lines(stream) if line["logger"] == LOOKUP_LOGGER]
        assert [line.get("request_id") for line in lines] == expected
    else:
        lines = [line for line in stream.getvalue().splitlines() if LOOKUP_LOGGER in line]
        assert [line.split(f" INFO {LOOKUP_LOGGER}")[1] for line in lines] == [
            f" request_id={expected[0]}: looking a resident up",
            " request_id=counter-7.42: looking a resident up",
            ": after the requests"]
