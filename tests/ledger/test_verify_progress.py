"""`pointsledger verify` shows its progress on a terminal's standard error; what it prints on
standard output (what scripts read) is the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger, build
from ledger.domain.outcomes import Status
from tests.conftest import make_settings
from tests.ledger.helpers import invoke
from tests.support import register_platform


@pytest.fixture
def url(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(tmp_path)
    ledger: Ledger = build(make_settings(sqlite_url, tmp_path=tmp_path))
    try:
        platform = register_platform(ledger.sessions)
        outcomes = ledger.ingestor.ingest([platform.delivery(points=points)
                                           for points in (5, 7, 9)])
        assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 3
    finally:
        ledger.close()
    yield sqlite_url


def test_verify_off_a_terminal_prints_its_results_and_nothing_else(url: str) -> None:
    result = invoke(url, "verify")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "chain intact", "Merkle tree intact", "audit trail intact"]
    assert lines[0].startswith("chain intact: 3 entries, head ")


def test_verify_on_a_terminal_draws_on_stderr_and_prints_the_same_results(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = invoke(url, "verify")
    # The runner's stderr stands in for a terminal: our check and rich's both say it is one.
    monkeypatch.setattr("ledger.runtime.progress._stderr_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")

    drawn = invoke(url, "verify")

    assert drawn.exit_code == 0, drawn.output
    assert drawn.stdout == plain.stdout
    assert "ledger entries" in drawn.stderr
    assert "3/3" in drawn.stderr
