"""`pointsledger bench import` (SPEC §10, §11): a small run, for its wiring and its figures."""

from __future__ import annotations

from click.testing import CliRunner

from ledger.bench.import_export import run_import_bench
from ledger.cli.main import cli

SIZE_BYTES = 150_000


def test_the_bench_imports_the_whole_export_and_measures_the_adapter_process() -> None:
    figures = run_import_bench(SIZE_BYTES).document()
    assert figures["file_bytes"] >= SIZE_BYTES
    assert figures["accepted"] == figures["records"] > 1000
    assert figures["quarantined"] == 0
    assert figures["records_per_s"] > 0
    assert 20 < figures["adapter_peak_rss_mb"] < 200


def test_bench_import_is_a_command_with_a_bounded_size() -> None:
    result = CliRunner().invoke(cli, ["bench", "import", "--help"])
    assert result.exit_code == 0 and "--megabytes" in result.output
    refused = CliRunner().invoke(cli, ["bench", "import", "--megabytes", "0"])
    assert refused.exit_code == 2
