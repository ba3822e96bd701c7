"""No log line, in either format, holds an ID number, a token, a password or a private key
(SPEC §15), shown by doing the bad thing.

Known secrets go through every path a test can reach in one process: events whose body holds an
ID number (embedded mode), a resident lookup, the ID number where the pseudonym goes and in
paths that match nothing (404s), a token in the query string and in headers, a console sign-in
with a wrong password, a private key where a public one belongs, `pointsledger residents
pseudonym`, an adapter's webhook given a bad record, the development server's access log, and a
library that quotes everything it is given, at DEBUG and in a traceback. Every line written,
text and JSON, is then searched for each secret in every written form.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

import adapters.lijiayuan as lijiayuan
from adapters.base.http_source import webhook_app
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from ledger.api import residents as residents_api
from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.cli.main import cli
from ledger.cli.serve import development_server
from ledger.contract.personal_data import mask_id_numbers
from ledger.contract.redaction import redact
from ledger.contract.resident_id import check_character
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import encode_private_key
from ledger.runtime.log_format import JSON, TEXT
from ledger.service import administration, passwords
from tests.api.support import ID_NUMBER, Tokens, bearer, create_tokens, post_delivery
from tests.conftest import make_settings
from tests.ops.log_capture import captured_logs, json_lines
from tests.support import TEST_PEPPER, PlatformFixture, register_platform

API = "/api/v1"
# A second valid number, for the paths that take one where it does not belong.
OTHER_ID_NUMBER = "33010919800101123" + check_character("33010919800101123")
BAD_CHECK = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")  # still somebody's
SPACED_ID_NUMBER = f"{OTHER_ID_NUMBER[:6]} {OTHER_ID_NUMBER[6:14]} {OTHER_ID_NUMBER[14:]}"
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "Wr0ng-but-somebody's-real-one"
USERNAME = "li.teller"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class Secrets:
    id_numbers: tuple[str, ...]
    tokens: tuple[str, ...]
    passwords: tuple[str, ...]
    private_keys: tuple[str, ...]


@pytest.fixture
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", lambda: CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: CHEAP_HASHER.hash("nobody's"))


@pytest.fixture
def embedded(sqlite_url: str, tmp_path: Path, cheap_password_hashes: None) -> Iterator[Ledger]:
    built = build(make_settings(sqlite_url, tmp_path=tmp_path))
    yield built
    built.close()


@pytest.fixture
def platform(embedded: Ledger) -> PlatformFixture:
    return register_platform(embedded.sessions)


@pytest.fixture
def tokens(embedded: Ledger, platform: PlatformFixture) -> Tokens:
    made = create_tokens(embedded.sessions)
    with embedded.sessions.begin() as session:
        administration.add_user(session, "test:setup", USERNAME, "teller", "xiaoshan01", None,
                                NOW)
        administration.set_password(session, "test:setup", USERNAME, PASSWORD, NOW)
    return made


@pytest.fixture
def secrets(tokens: Tokens) -> Secrets:
    return Secrets(
        id_numbers=(ID_NUMBER, OTHER_ID_NUMBER, BAD_CHECK),
        tokens=(*tokens.by_role.values(), tokens.expired),
        passwords=(PASSWORD, WRONG_PASSWORD),
        private_keys=(encode_private_key(Ed25519PrivateKey.generate()),),
    )


# -- the search --------------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SEPARATORS = re.compile(r"[ \u3000-]")
_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _plain(text: str) -> str:
    """ID numbers in every written form brought back to their 18 characters."""
    text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    return _SEPARATORS.sub("", text.translate(_ASCII)).upper()


def secrets_in(log: str, secrets: Secrets) -> list[str]:
    found = [number for number in secrets.id_numbers if number.upper() in _plain(log)]
    found += [secret for secret in (*secrets.tokens, *secrets.passwords, *secrets.private_keys)
              if secret in log or urllib.parse.quote(secret, safe="") in log
              or urllib.parse.quote_plus(secret) in log]
    return found


# -- the run -----------------------------------------------------------------------------------

def _feed_the_api(client: FlaskClient, platform: PlatformFixture, tokens: Tokens,
                  secrets: Secrets) -> None:
    teller, admin = bearer(tokens.by_role["teller"]), bearer(tokens.by_role["admin"])
    # Events (embedded mode: appended in this process) that hold ID numbers where they must not.
    for event in (platform.event(memo=f"帮 {SPACED_ID_NUMBER} 搬家"),
                  platform.event(resident=ID_NUMBER),
                  platform.event(source_ref=OTHER_ID_NUMBER.translate(FULL_WIDTH))):
        assert post_delivery(client, platform.delivery(event)).status_code < 500
    assert client.post(f"{API}/events", data=f'{{"resident": "{ID_NUMBER}"',
                       content_type="application/json").status_code < 500
    # The counter's lookup, right and wrong, and the number where the pseudonym goes.
    assert client.post(f"{API}/residents/lookup", json={"id_number": ID_NUMBER},
                       headers=teller).status_code == 200
    assert client.post(f"{API}/residents/lookup", json={"id_number": BAD_CHECK},
                       headers=teller).status_code == 422
    for path in (f"{API}/residents/{ID_NUMBER}", f"{API}/residents/{OTHER_ID_NUMBER}/entries",
                 f"{API}/nothing/{ID_NUMBER}", f"/console/{OTHER_ID_NUMBER}"):
        assert client.get(path, headers=teller).status_code in (400, 404, 422)
    # Tokens in the query string (which never authenticates) and in headers.
    for token in secrets.tokens:
        client.get(f"{API}/ledger/head", query_string={"access_token": token})
        client.get(f"{API}/ledger/head", headers={**bearer(token), "X-Api-Key": token})
    # A private key where a public one belongs.
    assert client.post(f"{API}/platforms/{platform.code}/keys",
                       json={"public_key": secrets.private_keys[0]},
                       headers=admin).status_code in (400, 422)


def _sign_in_with_a_wrong_password(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match is not None
    answer = client.post("/console/login", data={
        "csrf_token": match.group(1), "username": USERNAME, "password": WRONG_PASSWORD})
    assert answer.status_code != 302
    # And a password somebody put in a query string.
    client.get("/console/login", query_string={"password": PASSWORD, "username": USERNAME})


def _quoting_library(monkeypatch: pytest.MonkeyPatch, secrets: Secrets) -> None:
    """The lookup runs into a library that logs everything it is given, and fails with it."""
    library = logging.getLogger("a.careless.library")

    def careless_pseudonym(id_number: str, pepper: str) -> str:
        library.debug("pseudonym(%r, %r) with %s, %s, password=%s", id_number, pepper,
                      secrets.tokens[0], secrets.private_keys[0], PASSWORD,
                      extra={"id_number": id_number, "token": secrets.tokens[0]})
        try:
            raise ValueError(f"cannot hash {id_number} for {secrets.tokens[0]} "
                             f"with {secrets.private_keys[0]}")
        except ValueError:
            library.warning("giving up on %s", id_number, exc_info=True, stack_info=True)
            raise

    monkeypatch.setattr(residents_api, "pseudonym", careless_pseudonym)


def _careless_requests_to_a_server(app: Flask, secrets: Secrets) -> None:
    """Request lines as the development server logs them (the access log)."""
    server = development_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    quoted = urllib.parse.quote
    paths = [f"{API}/residents/{ID_NUMBER}", f"{API}/residents/a{OTHER_ID_NUMBER}/entries",
             f"{API}/residents/{quoted(SPACED_ID_NUMBER)}",
             f"{API}/ledger/head?access_token={secrets.tokens[0]}",
             f"{API}/{secrets.tokens[1]}",
             f"/console/login?password={quoted(PASSWORD)}",
             f"{API}/platforms?key={quoted(secrets.private_keys[0], safe='')}"]
    try:
        for path in paths:
            try:
                urllib.request.urlopen(base + path, timeout=5).close()
            except urllib.error.HTTPError as error:
                error.close()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _an_adapter_given_a_bad_record(tmp_path: Path) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", lijiayuan.PLATFORM)
    try:
        intake = Intake(lijiayuan.Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()),
                        TEST_PEPPER, clock=lambda: NOW)
        code = next(iter(lijiayuan.CATEGORIES.codes))
        day = NOW - timedelta(days=1)
        records = [lijiayuan.native_record(OTHER_ID_NUMBER, ID_NUMBER, code, 5, day),
                   lijiayuan.native_record("W2", ID_NUMBER, SPACED_ID_NUMBER, 5, day),
                   lijiayuan.native_record("W3", OTHER_ID_NUMBER[:17] + "?", code, 5, day)]
        client = webhook_app(lijiayuan.PLATFORM, lijiayuan.WEBHOOK_PATH,
                             lijiayuan.native_records, intake, lambda: None).test_client()
        answer = client.post(lijiayuan.WEBHOOK_PATH, data=lijiayuan.payload(records))
        assert answer.status_code == 200 and answer.get_json()["quarantined"]
        client.post(lijiayuan.WEBHOOK_PATH, data=b'{"id": "' + ID_NUMBER.encode() + b'", "x')
    finally:
        outbox.close()


def _the_command_line(sqlite_url: str, tmp_path: Path) -> None:
    environment = {"POINTSLEDGER_DATABASE_URL": sqlite_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER}
    runner = CliRunner()
    for number in (ID_NUMBER, SPACED_ID_NUMBER, OTHER_ID_NUMBER[:17] + "?"):
        result = runner.invoke(cli, ["residents", "pseudonym", number], env=environment)
        assert result.exit_code in (0, 2), result.output


@pytest.mark.parametrize("log_format", [TEXT, JSON])
def test_no_log_line_holds_an_id_number_a_token_a_password_or_a_key(
        log_format: str, embedded: Ledger, platform: PlatformFixture, tokens: Tokens,
        secrets: Secrets, sqlite_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(ledger=embedded)
    with captured_logs(log_format) as stream:
        _feed_the_api(app.test_client(), platform, tokens, secrets)
        _sign_in_with_a_wrong_password(app)
        _careless_requests_to_a_server(app, secrets)
        _an_adapter_given_a_bad_record(tmp_path)
        _the_command_line(sqlite_url, tmp_path)
        _quoting_library(monkeypatch, secrets)
        answer = app.test_client().post(f"{API}/residents/lookup", json={"id_number": ID_NUMBER},
                                        headers=bearer(tokens.by_role["teller"]))
        assert answer.status_code == 500
    log = stream.getvalue()
    if log_format == JSON:
        json_lines(stream)  # every line is one object
    # The secrets did reach the log lines, in their redacted forms: the search below looks at
    # lines that would have held them.
    assert mask_id_numbers(ID_NUMBER) in log and mask_id_numbers(OTHER_ID_NUMBER) in log
    assert "access_token=[token]" in log and "[private key]" in log and "[password]" in log
    assert "a.careless.library" in log and "Traceback" in log and "ValueError" in log
    assert secrets_in(log, secrets) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("key whsk_D5JRX27CbG71RCKExffDa8ZouIuoDMH9UXvOMgrzT6c= refused",
     "key [private key] refused"),
    ("GET /x?key=whsk%5FD5JRX27CbG71RCKE%2Bxff%3D HTTP/1.1", "GET /x?key=[private key] HTTP/1.1"),
    ("POST /console/login?username=li&password=hunter2%21&next=/",
     "POST /console/login?username=li&password=[password]&next=/"),
    ("new_password=a b", "new_password=[password] b"),
    ("repeated=Secret1&x=1", "repeated=[password]&x=1"),
    ("the password policy: 12 characters", "the password policy: 12 characters"),
])
def test_private_keys_and_named_passwords_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
