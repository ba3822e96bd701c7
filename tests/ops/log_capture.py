"""Log lines as a process of the ledger writes them: the handler of ledger.runtime.log_format on
the root logger, every logger at DEBUG, in one format, into a string."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledger.runtime.log_format import log_handler


@contextmanager
def captured_logs(log_format: str) -> Iterator[io.StringIO]:
    """Everything logged in the block, in `log_format`, written as the command line writes it."""
    stream = io.StringIO()
    handler = log_handler(log_format, stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line, each of which must be one JSON object (lines end at "\n" alone, as a log
    collector reads them: a value may hold any other line separator)."""
    lines = [json.loads(line) for line in stream.getvalue().split("\n") if line]
    assert all(isinstance(line, dict) for line in lines)
    return lines
