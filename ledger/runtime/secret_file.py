"""Files that hold secrets (private keys, the pepper, an API token): created once, readable by the
owner only, and read without ever quoting what they hold."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SECRET_FILE_MODE = 0o600


def write_secret_file(path: Path, text: str) -> None:
    """Create `path` with mode 0600 holding `text`; raises FileExistsError rather than
    overwrite, so a second writer can never replace a key someone already holds.

    The text is written to a private temporary file first and then linked into place, which
    either succeeds whole or fails: another process never reads a half-written key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, SECRET_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # atomic, and refuses an existing path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


class SecretFileUnreadable(ValueError):
    """The file meant to hold a secret cannot be read, or holds nothing; the message names the
    file, never what it holds."""


def read_secret_file(path: Path, what: str) -> str:
    """The secret `what` (an API token, say) held in `path`, without the whitespace around it.

    A secret is given in a file rather than a variable or an argument so that it shows in no
    process listing, no shell history and no dump of the environment."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileUnreadable(
            f"cannot read {what} from {path} ({type(error).__name__})") from None
    if not secret or "\n" in secret:
        raise SecretFileUnreadable(f"{path} must hold {what} on one line, and nothing else")
    return secret
