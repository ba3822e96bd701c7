"""Replacing a small file whole: a reader, or the same process after a crash or a power cut,
finds either the old content or the new one, never a mixture or an empty file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new name in `directory` survive a power cut."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # os.write may write less than it is given
        view = view[os.write(descriptor, view):]


def replace_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Write `text` to a temporary file beside `path`, fsync it, rename it over `path` and fsync
    the directory. If any step fails, `path` keeps what it held and the error propagates."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    try:
        try:
            os.fchmod(descriptor, mode)
            _write_all(descriptor, text.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)
