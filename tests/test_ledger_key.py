"""The ledger key file of SPEC §2: generated once, mode 0600, reused, refused when not a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from ledger.contract.note import open_note, sign_note
from ledger.contract.note_keys import Signer, Verifier, VerifierKey
from ledger.contract.webhook import decode_public_key, public_key_bytes
from ledger.infra.ledger_key import load_or_create_ledger_key
from ledger.settings import SettingsError


def test_the_ledger_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "ledger.key"
    first = load_or_create_ledger_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="ascii").startswith("whsk_")
    assert public_key_bytes(load_or_create_ledger_key(path)) == public_key_bytes(first)


def test_a_file_that_is_not_a_key_names_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    path.write_text("not a key", encoding="ascii")
    with pytest.raises(SettingsError, match="POINTSLEDGER_LEDGER_KEY_FILE"):
        load_or_create_ledger_key(path)


def test_keys_ledger_prints_the_public_key_adapters_verify_notices_with(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.key"
    monkeypatch.setenv("POINTSLEDGER_LEDGER_KEY_FILE", str(path))
    first = CliRunner().invoke(cli, ["keys", "ledger"])
    assert first.exit_code == 0, first.output
    assert decode_public_key(first.output.strip()) == public_key_bytes(
        load_or_create_ledger_key(path))
    assert CliRunner().invoke(cli, ["keys", "ledger"]).output == first.output


def test_keys_ledger_vkey_prints_the_note_verifier_key_of_the_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.key"
    monkeypatch.setenv("POINTSLEDGER_LEDGER_KEY_FILE", str(path))
    monkeypatch.setenv("POINTSLEDGER_LOG_ORIGIN", "bank.example/pointsledger")

    result = CliRunner().invoke(cli, ["keys", "ledger", "--vkey"])

    assert result.exit_code == 0, result.output
    vkey = VerifierKey.parse(result.output.strip())
    assert vkey.name == "bank.example/pointsledger"
    assert vkey.public_key == public_key_bytes(load_or_create_ledger_key(path))
    # A note the ledger key signs under the origin opens with that vkey, as a witness opens it.
    message = sign_note("bank.example/pointsledger\n1\nAAAA\n",
                        [Signer("bank.example/pointsledger", load_or_create_ledger_key(path))])
    assert open_note(message, [Verifier.from_vkey(result.output.strip())]).signatures
