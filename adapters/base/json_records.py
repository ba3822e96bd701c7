"""Request bodies of JSON pushes → NativeRecords: one object, or an array of objects."""

from __future__ import annotations

import json
from typing import Any

from adapters.base.records import NativeRecord


def json_records(body: bytes, prefix: str) -> list[NativeRecord]:
    """Each object of the body is a record; an unreadable body is one unreadable record."""
    try:
        document: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [NativeRecord(prefix, body.decode("utf-8", errors="replace"),
                             unreadable="the body is not UTF-8 JSON")]
    items = document if isinstance(document, list) else [document]
    if not items:
        return []
    records = []
    for index, item in enumerate(items, start=1):
        location = f"{prefix} item {index}"
        raw = json.dumps(item, ensure_ascii=False)
        if not isinstance(item, dict):
            records.append(NativeRecord(location, raw, unreadable="the record is not an object"))
        else:
            records.append(NativeRecord(location, raw, item))
    return records
