"""ledger.gunicorn_config's hooks on a directory of metric files, without gunicorn (the master's
side; tests/ops/test_metrics_under_gunicorn.py runs them under a real one): at start a
previous run's files go, and a worker's exit takes only its live gauges with it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ledger.gunicorn_config import MULTIPROCESS_DIRECTORY_VARIABLE, child_exit, on_starting

DEAD = 4101
ALIVE = 4102
SERVER = SimpleNamespace()  # the arbiter: neither hook looks at it


def files(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_a_workers_exit_removes_its_live_gauges_and_keeps_its_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY_VARIABLE, str(tmp_path))
    kept = {f"counter_{DEAD}.db", f"histogram_{DEAD}.db", f"gauge_max_{DEAD}.db",
            f"gauge_livesum_{ALIVE}.db"}
    for name in kept | {f"gauge_livesum_{DEAD}.db", f"gauge_liveall_{DEAD}.db"}:
        (tmp_path / name).write_bytes(b"")

    child_exit(SERVER, SimpleNamespace(pid=DEAD))

    assert files(tmp_path) == kept


def test_at_start_a_previous_runs_files_go_and_nothing_else(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    for name in (f"counter_{DEAD}.db", f"gauge_livesum_{ALIVE}.db", "README"):
        (directory / name).write_bytes(b"")
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY_VARIABLE, str(directory))

    on_starting(SERVER)

    assert files(directory) == {"README"}


def test_at_start_a_missing_directory_is_made(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "not" / "yet"
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY_VARIABLE, str(directory))

    on_starting(SERVER)

    assert directory.is_dir()


def test_without_the_variable_neither_hook_touches_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIRECTORY_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # where a relative default would point
    names = {f"counter_{DEAD}.db", f"gauge_livesum_{DEAD}.db"}
    for name in names:
        (tmp_path / name).write_bytes(b"")

    on_starting(SERVER)
    child_exit(SERVER, SimpleNamespace(pid=DEAD))

    assert files(tmp_path) == names
