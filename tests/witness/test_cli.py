"""`pointsledger witness keygen|serve`: a key file only its owner reads, a vkey to hand to the
log, one sentence for each bad argument, and a server that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.cosignature import CosignatureSigner, CosignatureVerifier
from ledger.contract.note import add_signatures
from ledger.contract.witness_protocol import ADD_CHECKPOINT_PATH, parse_cosignature_response
from tests.witness.support import ORIGIN, WITNESS_NAME, new_log

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
REPOSITORY = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 30


def keygen(out: Path, name: str = WITNESS_NAME) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["witness", "keygen", "--name", name, "--out", str(out)])
    return result.exit_code, result.stdout, result.stderr


def test_keygen_writes_a_key_only_its_owner_reads_and_prints_its_vkey(tmp_path: Path) -> None:
    key_file = tmp_path / "witness.key"
    code, stdout, _ = keygen(key_file)
    assert code == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    verifier = CosignatureVerifier.from_vkey(stdout.strip())
    assert verifier.name == WITNESS_NAME
    assert CosignatureSigner.from_skey(key_file.read_text().strip()).vkey() == stdout.strip()
    assert "PRIVATE" not in stdout


def test_keygen_never_overwrites_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "witness.key"
    keygen(key_file)
    before = key_file.read_bytes()
    code, stdout, stderr = keygen(key_file)
    assert (code, stdout) == (2, "")
    assert stderr.count("\n") == 1 and "exists" in stderr
    assert key_file.read_bytes() == before


def test_keygen_refuses_a_name_with_a_space(tmp_path: Path) -> None:
    code, _, stderr = keygen(tmp_path / "witness.key", name="my witness")
    assert code == 2 and stderr.startswith("error: --name")
    assert not (tmp_path / "witness.key").exists()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "witness.key"
    keygen(path)
    return path


def serve_arguments(key_file: Path, state: Path, vkey: str,
                    listen: str = "127.0.0.1:0") -> list[str]:
    return ["witness", "serve", "--key-file", str(key_file), "--log-vkey", vkey,
            "--state", str(state), "--listen", listen]


@pytest.mark.parametrize(("case", "expected"), [
    ("missing key file", "cannot read the key file"),
    ("not a witness key", "does not hold a witness key"),
    ("malformed vkey", "--log-vkey"),
    ("bad listen", "--listen must be HOST:PORT"),
    ("state not writable", "cannot be written"),
])
def test_serve_refuses_bad_arguments_in_one_sentence(
        key_file: Path, tmp_path: Path, case: str, expected: str) -> None:
    vkey, state, listen = new_log().vkey, tmp_path / "state", "127.0.0.1:0"
    if case == "missing key file":
        key_file = tmp_path / "absent.key"
    elif case == "not a witness key":
        key_file.write_text(new_log().signer.skey())  # a log key (type 0x01)
    elif case == "malformed vkey":
        vkey = "example.org/ledger+00000000+AAAA"
    elif case == "bad listen":
        listen = "127.0.0.1"
    else:
        (tmp_path / "file").write_text("")
        state = tmp_path / "file" / "state"
    result = CliRunner().invoke(cli, serve_arguments(key_file, state, vkey, listen))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert "PRIVATE" not in result.stderr


def _answering_url(process: subprocess.Popen[str]) -> str:
    """The witness logs the URL it answers on (port 0 picks a free one)."""
    assert process.stderr is not None
    stderr = process.stderr
    for line in stderr:
        found = re.search(r"answers (http://\S+)", line)
        if found:
            # Keep reading its log, so that a full pipe never blocks the witness.
            threading.Thread(target=stderr.read, daemon=True).start()
            return found.group(1)
    raise AssertionError("the witness exited before listening")


def test_serve_answers_on_a_free_port_and_exits_zero_on_sigterm(
        key_file: Path, tmp_path: Path) -> None:
    log = new_log()
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    process = subprocess.Popen([POINTSLEDGER, *serve_arguments(key_file, tmp_path / "state",
                                                               log.vkey)],
                               env=environment, stderr=subprocess.PIPE, text=True)
    try:
        url = _answering_url(process)
        assert url.endswith(ADD_CHECKPOINT_PATH)
        note = log.checkpoint(4)
        request = urllib.request.Request(url, data=log.request(0, 4, note=note), method="POST")
        with urllib.request.urlopen(request, timeout=PROCESS_TIMEOUT_S) as response:
            cosignatures = parse_cosignature_response(response.read())
        witness = CosignatureVerifier.from_vkey(
            CosignatureSigner.from_skey(key_file.read_text().strip()).vkey())
        _, opened = open_checkpoint(add_signatures(note, cosignatures), ORIGIN, log.verifier(),
                                    [witness])
        assert len(opened.signatures) == 2  # the log's and the witness's
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=PROCESS_TIMEOUT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_the_witness_carries_neither_the_database_nor_the_web_application() -> None:
    """A township runs it on its own machine, with nothing of the ledger's to configure."""
    probe = ("import sys, click; from ledger.cli.main import cli; "
             "cli.get_command(click.Context(cli), 'witness'); "
             "print(sorted(m for m in ('flask', 'sqlalchemy', 'pika', 'ledger.bootstrap') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    assert result.stdout.strip() == "[]"
