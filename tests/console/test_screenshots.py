"""The README's pictures can be made again (issue 12): the script runs the demo, serves its
console and photographs the main pages in Chromium."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshots_of_the_main_pages_are_made(tmp_path: Path) -> None:
    # As a person runs it, in a process of its own (Playwright's driver of this test session
    # cannot be started twice in one thread).
    completed = subprocess.run([sys.executable, "-m", "ledger.demo.screenshots", "--out",
                                str(tmp_path)], capture_output=True, text=True, timeout=600,
                               check=False)

    assert completed.returncode == 0, completed.stderr[-2000:]
    taken = [Path(line) for line in completed.stdout.split()]
    assert sorted(path.name for path in taken) == sorted(
        f"{name}.png" for name in ("counter", "explanation", "receipt", "branch", "simulation",
                                   "ledger-checkpoint", "ledger"))
    for path in taken:
        width, height = _size(path)
        assert width == 1280 and height >= 600, path.name
