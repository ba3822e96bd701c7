"""`audit --full` tells how far it has read: a bar on a terminal, nothing in a pipe or cron."""

from __future__ import annotations

import pytest

from ledger.outside_audit.auditor import AuditRequest, run_audit
from tests.outside_audit.conftest import Audited, passed


def test_reading_every_entry_reports_up_to_the_checkpoints_size(audited: Audited) -> None:
    told: list[tuple[int, int]] = []
    request = AuditRequest(audited.url, audited.log.vkey("ledger"), audited.state,
                           token=audited.log.token, full=True)

    run_audit(request, progress=lambda done, total: told.append((done, total)))

    assert told[-1] == (5, 5)
    assert [done for done, _ in told] == sorted(done for done, _ in told)


def test_off_a_terminal_the_audit_prints_its_report_and_nothing_else(audited: Audited) -> None:
    result = audited.run("--full")
    assert passed(result), result.output
    assert result.stderr == ""


def test_on_a_terminal_the_bar_goes_to_stderr_and_the_report_is_unchanged(
        audited: Audited, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = audited.run("--full")
    monkeypatch.setattr("ledger.runtime.progress._stderr_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich, too, takes the runner's stderr as a terminal

    drawn = audited.run("--full")

    assert passed(drawn), drawn.output
    # The same report, but for the line naming the checkpoint the first run kept.
    assert _without_previous(drawn.stdout) == _without_previous(plain.stdout)
    assert "entries read" in drawn.stderr
    assert "5/5" in drawn.stderr


def _without_previous(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("previous:")]
