"""An inbox directory that a platform drops files into, handled as untrusted ground (SPEC §10).

Whoever can write into the inbox can make a name point anywhere: a link `x.csv → /proc/self/
environ` must not be read, an `imported` that is a link must not take files elsewhere. So the
directory is opened once per scan and everything is done relative to it (`dir_fd`): entries
are looked at with lstat, a file is opened with O_NOFOLLOW and checked with fstat to be the
regular file that was looked at, `imported/` is opened with O_NOFOLLOW as a directory, and files
move into it by a rename between the two open directories, which no link can redirect.

Names are bytes on disk. A name that is not UTF-8 is not an error of the scan: it comes back
with `text` None, for the inbox to quarantine it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from adapters.base.redaction import quoted
from adapters.base.retention import SECONDS_PER_DAY
from ledger.contract.personal_data import mask_id_numbers

OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
OPEN_DIRECTORY_NO_LINK = OPEN_DIRECTORY | os.O_NOFOLLOW
# Non-blocking: a FIFO put in place of the file between lstat and open must not hang the scan.
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
REPORT_MODE = 0o640
READ_BUFFER_BYTES = 1 << 20
# A name picked for a moved file when its own is taken: a bound, not a loop without end.
RENAME_ATTEMPTS_MAX = 10_000


class ImportedNotADirectory(Exception):
    """`imported/` is not a real directory (a link, a file): nothing is moved through it."""


class NotRegularFile(Exception):
    """The entry is not a regular file (a link, a directory, a FIFO, a device)."""


@dataclass(frozen=True)
class Entry:
    """A name found in the inbox."""

    name: bytes
    text: str | None  # the name as UTF-8 text; None when it is not valid UTF-8

    @property
    def shown(self) -> str:
        """For log lines: quoted and escaped (no newline can forge a line), ID numbers masked."""
        return quoted(self.text if self.text is not None else self.name)

    @property
    def location(self) -> str:
        """For the quarantine: the name as text, its undecodable bytes escaped, masked."""
        return mask_id_numbers(self.name.decode("utf-8", errors="backslashreplace"))


def kind_of(mode: int) -> str:
    for test, kind in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return kind
    return "not a regular file"


class DropDirectory:
    """The inbox and its `imported/`, open for one scan (a context manager)."""

    def __init__(self, path: Path, imported: str) -> None:
        self.path = path
        self._imported = imported
        self._fd = -1
        self._imported_fd = -1

    def __enter__(self) -> DropDirectory:
        self._fd = os.open(self.path, OPEN_DIRECTORY)
        try:
            self._imported_fd = self._open_imported()
        except BaseException:
            os.close(self._fd)
            raise
        return self

    def __exit__(self, _type: type[BaseException] | None, _error: BaseException | None,
                 _traceback: TracebackType | None) -> None:
        os.close(self._imported_fd)
        os.close(self._fd)

    def _open_imported(self) -> int:
        with contextlib.suppress(FileExistsError):
            os.mkdir(self._imported, mode=0o750, dir_fd=self._fd)
        try:
            return os.open(self._imported, OPEN_DIRECTORY_NO_LINK, dir_fd=self._fd)
        except OSError as error:  # ENOTDIR: a link (with O_NOFOLLOW) or a file
            if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            found = os.stat(self._imported, dir_fd=self._fd, follow_symlinks=False)
            raise ImportedNotADirectory(
                f"{self.path / self._imported} is {kind_of(found.st_mode)}, not a real "
                "directory: no file is imported or moved until it is one") from None

    def entries(self, suffix: bytes) -> list[Entry]:
        """Names ending in `suffix`, not hidden (a platform writes under a hidden name first),
        in byte order."""
        names = sorted(os.fsencode(name) for name in os.listdir(self._fd))
        return [Entry(name, _utf8(name)) for name in names
                if name.endswith(suffix) and not name.startswith(b".")]

    def lstat(self, entry: Entry) -> os.stat_result:
        return os.stat(entry.name, dir_fd=self._fd, follow_symlinks=False)

    def open_regular(self, entry: Entry, looked_at: os.stat_result) -> BinaryIO:
        """The file for reading, never through a link; NotRegularFile when what is there now is
        not the regular file that was looked at; OSError when it cannot be opened."""
        try:
            fd = os.open(entry.name, OPEN_FILE, dir_fd=self._fd)
        except OSError as error:
            if error.errno == errno.ELOOP:  # made a link since it was looked at
                raise NotRegularFile("a symbolic link") from None
            raise
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise NotRegularFile(kind_of(opened.st_mode))
            if (opened.st_dev, opened.st_ino) != (looked_at.st_dev, looked_at.st_ino):
                raise NotRegularFile("replaced while it was looked at")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb", buffering=READ_BUFFER_BYTES)
        except BaseException:
            os.close(fd)
            raise

    def write_beside(self, name: str, data: bytes) -> None:
        """A file of ours in the inbox (a report), atomically, never written through a link:
        a temporary file created anew, then renamed over whatever has the name."""
        temporary = f".{name}.{os.getpid()}.part"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=self._fd)
        fd = os.open(temporary, CREATE_FILE, REPORT_MODE, dir_fd=self._fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)

    def move_to_imported(self, entry: Entry) -> bytes:
        """Into `imported/`, never over an earlier file of the same name, stamped with the time
        of the move (what the retention counts from); the name it got there."""
        target = entry.name
        stem, dot, suffix = entry.name.rpartition(b".")
        for counter in range(1, RENAME_ATTEMPTS_MAX + 1):
            if not self._exists_in_imported(target):
                break
            target = stem + b"." + str(counter).encode() + dot + suffix
        else:
            raise FileExistsError(f"no free name in {self._imported}/ for {entry.shown}")
        os.rename(entry.name, target, src_dir_fd=self._fd, dst_dir_fd=self._imported_fd)
        os.utime(target, dir_fd=self._imported_fd, follow_symlinks=False)
        return target

    def _exists_in_imported(self, name: bytes) -> bool:
        try:
            os.stat(name, dir_fd=self._imported_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def delete_imported_older_than(self, keep_days: int) -> list[Entry]:
        """Delete what was moved into `imported/` more than `keep_days` ago (links themselves,
        never what they point to; directories are left); the entries deleted."""
        deadline = time.time() - keep_days * SECONDS_PER_DAY
        deleted = []
        with os.scandir(self._imported_fd) as found:
            for item in found:
                if item.is_dir(follow_symlinks=False):
                    continue
                if item.stat(follow_symlinks=False).st_mtime > deadline:
                    continue
                os.unlink(item.name, dir_fd=self._imported_fd)
                name = os.fsencode(item.name)
                deleted.append(Entry(name, _utf8(name)))
        return deleted


def _utf8(name: bytes) -> str | None:
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return None
