"""The checkpoint an auditor kept from its previous run: one file per log origin in the state
directory, replaced atomically (a crash leaves the old one or the new one, never half of one),
and only after an audit passed.

The file holds the signed note exactly as the server gave it, so each run opens it again under
the log key it is given: a state file edited by hand, or kept for another log, is refused.
A lock held for the whole run keeps two audits of one log with one state directory apart, so
that a slower run can never put back an older checkpoint over a newer one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.note_keys import NoteError, Verifier
from ledger.outside_audit.documents import parse_rfc3339, rfc3339
from ledger.outside_audit.errors import StateNotKept, UsageError

STATE_DIRECTORY_MODE = 0o700
STATE_FILE_SUFFIX = ".checkpoint.json"
LOCK_FILE_SUFFIX = ".lock"
STATE_FILE_SIZE_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class KeptCheckpoint:
    checkpoint: Checkpoint
    note: str
    kept_at: datetime

    def described(self) -> str:
        """As the failures name it: "the checkpoint of size N kept on <date>"."""
        return f"the checkpoint of size {self.checkpoint.size} kept on {rfc3339(self.kept_at)}"


class CheckpointKeeper:
    """The state directory's file for one origin, locked while the keeper is open."""

    def __init__(self, directory: Path, origin: str) -> None:
        name = urllib.parse.quote(origin, safe="")
        self.directory = directory
        self.origin = origin
        self.path = directory / f"{name}{STATE_FILE_SUFFIX}"
        self._lock_path = directory / f"{name}{LOCK_FILE_SUFFIX}"
        self._lock: IO[bytes] | None = None

    def __enter__(self) -> CheckpointKeeper:
        try:
            self.directory.mkdir(mode=STATE_DIRECTORY_MODE, parents=True, exist_ok=True)
            lock = self._lock_path.open("ab")
        except OSError as error:
            raise UsageError(f"the state directory {self.directory} cannot be used: "
                             f"{error.strerror or error}") from None
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise UsageError(f"another audit of {self.origin} is running with the state "
                             f"directory {self.directory}") from None
        self._lock = lock
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._lock is not None:
            self._lock.close()  # closing releases the lock
            self._lock = None

    def load(self, log: Verifier) -> KeptCheckpoint | None:
        """The kept checkpoint, opened again under `log`; None on the first run."""
        try:
            with self.path.open("rb") as file:
                raw = file.read(STATE_FILE_SIZE_MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise UsageError(f"the kept checkpoint {self.path} cannot be read: "
                             f"{error.strerror or error}") from None
        try:
            document = json.loads(raw) if len(raw) <= STATE_FILE_SIZE_MAX_BYTES else None
        except ValueError:
            document = None
        note = document.get("checkpoint") if isinstance(document, dict) else None
        kept_at = parse_rfc3339(document.get("kept_at")) if isinstance(document, dict) else None
        if not isinstance(note, str) or kept_at is None:
            raise UsageError(f"the kept checkpoint {self.path} is not one this command wrote")
        try:
            checkpoint, _ = open_checkpoint(note, self.origin, log)
        except NoteError as error:
            raise UsageError(f"the kept checkpoint {self.path} does not verify under the given "
                             f"log key: {error}") from None
        return KeptCheckpoint(checkpoint, note, kept_at)

    def keep(self, note: str, kept_at: datetime) -> None:
        """Replace the kept checkpoint: a temporary file, synced, renamed over the old one."""
        text = json.dumps({"origin": self.origin, "kept_at": rfc3339(kept_at),
                           "checkpoint": note}, ensure_ascii=False, indent=1) + "\n"
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self.directory,
                                                     prefix=f".{self.path.name}.")
        except OSError as error:
            raise StateNotKept(self._not_kept(error)) from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            _sync_directory(self.directory)
        except OSError as error:
            raise StateNotKept(self._not_kept(error)) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    def _not_kept(self, error: OSError) -> str:
        return (f"the audit passed, but its checkpoint could not be kept in {self.directory}: "
                f"{error.strerror or error}")


def _sync_directory(directory: Path) -> None:
    """The rename itself is durable only once the directory is synced."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
