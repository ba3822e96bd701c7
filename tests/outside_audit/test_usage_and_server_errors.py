"""What the auditor is given wrong is a usage error (exit 2); a server that cannot be reached or
answers garbage is a failure (exit 1); each said in one sentence, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.bench.log_server import serve_log
from ledger.cli.main import cli
from ledger.outside_audit.errors import ServerError
from ledger.outside_audit.http_client import LogClient
from tests.outside_audit.conftest import Audited, failure, passed
from tests.outside_audit.fake_log import FakeLog


def usage_error(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    # Ours is one sentence; click's own (a missing option) follows its usage line.
    assert lines[-1].startswith(("error: ", "Error: ")), result.stderr
    return result.stderr


def run(*arguments: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *arguments])


def test_a_log_vkey_that_is_not_one_is_a_usage_error(audited: Audited) -> None:
    result = run("--url", audited.url, "--log-vkey", "bank.example/ledger+zz+AAAA",
                 "--state", str(audited.state))
    assert "--log-vkey is not a log's verifier key" in usage_error(result)


def test_a_witness_vkey_of_another_type_is_a_usage_error(audited: Audited) -> None:
    result = run("--url", audited.url, "--log-vkey", audited.log.vkey(), "--state",
                 str(audited.state), "--witness-vkey", audited.log.vkey())
    assert "is not a witness's verifier key" in usage_error(result)


def test_a_quorum_larger_than_the_witnesses_given_is_a_usage_error(audited: Audited) -> None:
    assert "--quorum 3 asks for more cosignatures than the 2 distinct witnesses given" in (
        usage_error(audited.run("--quorum", "3")))
    assert usage_error(audited.run("--quorum", "-1"))


def test_the_same_witness_given_twice_counts_once(audited: Audited) -> None:
    first = audited.log.witness_vkeys()[0]
    result = run("--url", audited.url, "--log-vkey", audited.log.vkey(), "--state",
                 str(audited.state), "--witness-vkey", first, "--witness-vkey", first,
                 "--quorum", "2")
    assert "the 1 distinct witnesses given" in usage_error(result)


def test_full_without_a_token_is_a_usage_error(audited: Audited) -> None:
    assert "needs an auditor's token (--token)" in usage_error(
        audited.run("--full", token=False))
    assert not audited.state.exists() or not list(audited.state.glob("*.json"))


def test_the_token_may_come_from_the_environment(audited: Audited) -> None:
    result = CliRunner(env={"POINTSLEDGER_AUDIT_TOKEN": audited.log.token}).invoke(
        cli, ["audit", "--url", audited.url, "--log-vkey", audited.log.vkey(), "--state",
              str(audited.state), "--full"])
    assert passed(result), result.output


def test_a_token_the_server_refuses_is_a_usage_error(audited: Audited) -> None:
    result = audited.run("--full", "--token", "not-the-token")
    assert "the server refuses the token for GET /api/v1/platforms (HTTP 401)" in (
        usage_error(result))
    assert "not-the-token" not in result.output


@pytest.mark.parametrize("url", ["ftp://bank.example", "bank.example", "http://",
                                 "http://auditor:secret@bank.example", "http://bank:port",
                                 "http://bank.example/?x=1"])
def test_a_url_that_is_not_a_servers_is_a_usage_error(audited: Audited, url: str) -> None:
    result = run("--url", url, "--log-vkey", audited.log.vkey(), "--state",
                 str(audited.state))
    assert "--url" in usage_error(result)
    assert "secret" not in result.output


def test_a_state_directory_that_is_a_file_is_a_usage_error(audited: Audited,
                                                          tmp_path: Path) -> None:
    state = tmp_path / "a-file"
    state.write_text("")
    result = run("--url", audited.url, "--log-vkey", audited.log.vkey(), "--state", str(state))
    assert usage_error(result)


def test_a_state_kept_for_another_log_key_is_a_usage_error(audited: Audited) -> None:
    assert passed(audited.run())
    other = FakeLog(witnesses=2)  # the same origin, another key
    other.add_platform("lijiayuan")
    other.publish()
    with serve_log(other) as url:
        result = run("--url", url, "--log-vkey", other.vkey(), "--state", str(audited.state),
                     "--quorum", "0")
    assert "does not verify under the given log key" in usage_error(result)


def test_a_missing_option_is_a_usage_error() -> None:
    assert run("--url", "http://bank.example").exit_code == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_server_that_cannot_be_reached_is_a_failure(tmp_path: Path) -> None:
    log = FakeLog()
    url = f"http://127.0.0.1:{_free_port()}"
    result = run("--url", url, "--log-vkey", log.vkey(), "--state", str(tmp_path))
    assert failure(result).startswith(f"the server at {url} cannot be reached")


def test_a_server_that_does_not_answer_in_time_is_a_failure() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections wait in the backlog, never answered
        client = LogClient(f"http://127.0.0.1:{silent.getsockname()[1]}", None, timeout_s=0.2)
        with pytest.raises(ServerError, match=r"did not answer GET /x within 0.2 s"):
            client.text("/x", 100)


def test_a_checkpoint_that_is_not_a_signed_note_is_a_failure(audited: Audited) -> None:
    audited.log.logs["ledger"].latest = "<html>maintenance</html>"
    assert "does not verify" in failure(audited.run())


def test_entries_that_are_not_json_are_a_failure(audited: Audited) -> None:
    audited.log.entries = lambda log, after, limit: (b"not json", None)  # type: ignore[method-assign]
    assert failure(audited.run("--full")) == (
        "the server's answer to GET /api/v1/ledger/entries is not JSON")


def test_entries_out_of_order_are_a_failure(audited: Audited) -> None:
    documents = audited.log.logs["ledger"].documents
    documents[1], documents[2] = documents[2], documents[1]
    assert failure(audited.run("--full")) == (
        "the server's GET /api/v1/ledger/entries gives seq 3 where seq 2 belongs")


def test_a_consistency_proof_of_another_shape_is_a_failure(audited: Audited) -> None:
    assert passed(audited.run())
    audited.log.grow(2, audited.key)
    audited.log.publish()
    audited.log.consistency = lambda log, first, second: [b"short"]  # type: ignore[method-assign]
    assert "is not a hex SHA-256 hash" in failure(audited.run())


class _Redirecting(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://elsewhere.example/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _redirecting_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    """Following it would carry the auditor's token to another server."""
    with _redirecting_server() as url:
        result = run("--url", url, "--log-vkey", FakeLog().vkey(), "--state", str(tmp_path))
    assert failure(result) == "the server answered GET /api/v1/ledger/checkpoint with HTTP 302"


def test_a_platform_key_listed_without_its_dates_is_a_failure(audited: Audited) -> None:
    listed = audited.log.platform_keys
    audited.log.platform_keys = lambda code: [  # type: ignore[method-assign]
        {**key, "added_at": "yesterday"} for key in (listed(code) or [])]
    message = failure(audited.run("--full"))
    assert message.startswith("a key in the server's answer to GET "
                              "/api/v1/platforms/lijiayuan/keys")
    assert "'yesterday', not an RFC 3339 time" in message


def test_the_audit_command_loads_none_of_the_ledgers_internals() -> None:
    """What a township installs it for: no database, broker or web framework is imported."""
    probe = ("import sys, click; from ledger.cli.main import cli; "
             "cli.get_command(click.Context(cli), 'audit'); "
             "print(sorted(m for m in ('flask', 'sqlalchemy', 'pika', 'ledger.domain', "
             "'ledger.service') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
