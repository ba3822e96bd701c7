"""`pointsledger bench audit` (SPEC §11): a small run, for its wiring and its figures."""

from __future__ import annotations

from click.testing import CliRunner

from ledger.bench.audit import run_audit_bench
from ledger.bench.audit_log import prepared_log
from ledger.cli.main import cli

ENTRIES = 400


def test_the_bench_audits_every_entry_and_verifies_every_platform_signature() -> None:
    figures = run_audit_bench(ENTRIES, yardstick_duration_s=0.05).document()
    assert set(figures) >= {"entries", "entries_per_s", "yardstick_per_s", "ratio"}
    assert figures["entries"] == ENTRIES
    # About one entry in fifty is a redemption, which no platform signs.
    assert ENTRIES * 0.9 < figures["signatures"] < ENTRIES
    assert all(figures[name] > 0 for name in ("entries_per_s", "yardstick_per_s", "ratio"))


def test_the_cached_log_is_made_once_and_reused() -> None:
    first = prepared_log(ENTRIES)
    modified = first.path.stat().st_mtime_ns
    again = prepared_log(ENTRIES)
    assert again == first and again.path.stat().st_mtime_ns == modified


def test_bench_audit_is_a_command_with_a_bounded_size() -> None:
    result = CliRunner().invoke(cli, ["bench", "audit", "--help"])
    assert result.exit_code == 0 and "--entries" in result.output
    assert CliRunner().invoke(cli, ["bench", "audit", "--entries", "0"]).exit_code == 2
