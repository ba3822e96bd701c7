"""The README's pictures can be made again (issue 12): the script runs the demo, serves its
console and photographs the main pages in Chromium."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from ledger.console.screenshots import take

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshots_of_the_main_pages_are_made(tmp_path: Path) -> None:
    taken = take(tmp_path)

    assert sorted(path.name for path in taken) == sorted(
        f"{name}.png" for name in ("counter", "explanation", "receipt", "branch", "simulation",
                                   "ledger"))
    for path in taken:
        width, height = _size(path)
        assert width == 1280 and height >= 600, path.name
