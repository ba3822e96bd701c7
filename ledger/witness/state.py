"""What a witness keeps of each log in its state directory: the checkpoint it last cosigned.

One file per log, named after a hash of the origin (origins hold slashes and any character) and
holding the checkpoint last cosigned as a signed note with the log's signature and the
witness's cosignature: the log's signature is evidence should it later show another history. A
file is only ever replaced whole (`ledger.runtime.atomic_file`), so a crash leaves the old
checkpoint or the new.

The spec asks that checking the old size and keeping the new checkpoint be one atomic step,
else two requests could roll the log back; `LogStates.locked` makes it one, for the threads of
this process (a lock per log) and for other processes on the same directory (an fcntl lock on a
file beside the state).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.contract.checkpoint import Checkpoint
from ledger.contract.note import split_note
from ledger.contract.note_keys import NoteError
from ledger.runtime.atomic_file import replace_file
from ledger.witness.decision import NEVER_COSIGNED, Cosigned, Cosigning

STATE_SUFFIX = ".checkpoint"
LOCK_SUFFIX = ".lock"
# Hex digits of SHA-256(origin) in a file name: 128 bits, no two origins share one.
FILE_NAME_HEX_DIGITS = 32


class StateUnusable(Exception):
    """The state directory cannot be written, or a state file is not what the witness wrote:
    the witness must not guess what it cosigned."""


def _file_stem(origin: str) -> str:
    return "log-" + hashlib.sha256(origin.encode()).hexdigest()[:FILE_NAME_HEX_DIGITS]


def _read(path: Path, origin: str) -> Cosigned:
    try:
        note = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NEVER_COSIGNED
    except (OSError, UnicodeDecodeError) as error:
        raise StateUnusable(f"cannot read the state file {path}: {error}") from None
    try:
        checkpoint = Checkpoint.parse(split_note(note)[0])
    except NoteError as error:
        raise StateUnusable(f"the state file {path} is not a checkpoint: {error}") from None
    if checkpoint.origin != origin:
        raise StateUnusable(f"the state file {path} is of the log {checkpoint.origin!r}, "
                            f"not {origin!r}")
    return Cosigned(checkpoint.size, checkpoint.root_hash)


class LogState:
    """One log's state, read and written under its lock (see `LogStates.locked`)."""

    def __init__(self, path: Path, origin: str) -> None:
        self._path = path
        self.origin = origin
        self.cosigned = _read(path, origin)

    def keep(self, cosigning: Cosigning) -> None:
        """Replace the state by the checkpoint just cosigned, before the answer is sent."""
        replace_file(self._path, cosigning.note)
        self.cosigned = cosigning.cosigned


class LogStates:
    """The state directory of a witness, for the logs it knows (and no others: an unknown
    origin in a request never creates a file)."""

    def __init__(self, directory: Path, origins: Iterable[str]) -> None:
        self._directory = directory
        self._thread_locks = {origin: threading.Lock() for origin in origins}
        _check_writable(directory)
        for origin in self._thread_locks:  # a state file that cannot be read stops the start
            _read(self._path(origin, STATE_SUFFIX), origin)

    def _path(self, origin: str, suffix: str) -> Path:
        return self._directory / (_file_stem(origin) + suffix)

    def cosigned(self, origin: str) -> Cosigned:
        """What the directory holds for a log now (for a status, a test; no lock taken)."""
        return _read(self._path(origin, STATE_SUFFIX), origin)

    @contextmanager
    def locked(self, origin: str) -> Iterator[LogState]:
        """The log's state, read afresh, and no other thread or process reading or writing it
        until the block ends. KeyError for a log this witness does not know."""
        with self._thread_locks[origin]:
            descriptor = os.open(self._path(origin, LOCK_SUFFIX), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield LogState(self._path(origin, STATE_SUFFIX), origin)
            finally:
                os.close(descriptor)  # closing the descriptor releases the flock


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise StateUnusable(f"the state directory {directory} cannot be written: "
                            f"{error.strerror or error}") from None
