"""Files that hold secrets (private keys, the pepper): created once, readable by the owner only."""

from __future__ import annotations

import os
from pathlib import Path

SECRET_FILE_MODE = 0o600


def write_secret_file(path: Path, text: str) -> None:
    """Create `path` with mode 0600 and write `text`; raises FileExistsError rather than
    overwrite, so a second writer can never replace a key someone already holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
