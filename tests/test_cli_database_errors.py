"""A command pointed at a database it cannot use says so in one sentence, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from tests.support import TEST_PEPPER


def _invoke(database_url: str, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(arguments), env={
        "POINTSLEDGER_DATABASE_URL": database_url, "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER})
    return result.exit_code, result.output


def test_an_unmigrated_database_is_named_as_such(tmp_path: Path) -> None:
    code, output = _invoke(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "platforms", "add",
                           "lijiayuan", "--name", "沥家园", "--township", "瓜沥镇")
    assert code == 1
    assert "the database is not migrated (run `pointsledger db upgrade`)" in output
    assert "Traceback" not in output


def test_an_unreachable_database_is_named_as_such() -> None:
    code, output = _invoke("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "verify")
    assert code == 1
    assert "the database cannot be reached" in output
    assert "Traceback" not in output


def test_db_upgrade_does_not_create_a_pepper(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={
        "POINTSLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "POINTSLEDGER_RESIDENT_PEPPER": ""})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "var" / "resident.pepper").exists()
