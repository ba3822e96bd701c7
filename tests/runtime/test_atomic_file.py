"""A file replaced whole: the new text or, if any step fails, the old one, and no leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.runtime.atomic_file import replace_file


def test_a_file_is_created_then_replaced_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state"
    replace_file(path, "first\n")
    replace_file(path, "second\n")
    assert path.read_text() == "second\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_step_that_fails_leaves_the_old_text_and_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    path = tmp_path / "state"
    replace_file(path, "old\n")

    def crash(*_arguments: object) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(f"ledger.runtime.atomic_file.os.{step}", crash)
        with pytest.raises(OSError, match="Input/output"):
            replace_file(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]
