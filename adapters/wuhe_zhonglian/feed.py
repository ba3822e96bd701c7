"""What 五和众联 answers to `GET /api/points`: a page `{"items": [...], "next": CURSOR}`."""

from __future__ import annotations

import json
from typing import Any

from adapters.base.records import NativeRecord


def _document(page: bytes) -> dict[str, Any] | None:
    """The page as a JSON object with an `items` list, or None when it is not one."""
    try:
        document: Any = json.loads(page.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return None
    return document


def native_records(page: bytes, prefix: str) -> list[NativeRecord]:
    """One record per item; a page that is not the expected object is one unreadable record."""
    document = _document(page)
    if document is None:
        return [NativeRecord(prefix, page.decode("utf-8", errors="replace"),
                             unreadable='the page is not UTF-8 JSON {"items": [...]}')]
    records = []
    for index, item in enumerate(document["items"], start=1):
        location = f"{prefix} item {index}"
        raw = json.dumps(item, ensure_ascii=False)
        if isinstance(item, dict):
            records.append(NativeRecord(location, raw, item))
        else:
            records.append(NativeRecord(location, raw, unreadable="the item is not an object"))
    return records


def is_readable(page: bytes) -> bool:
    return _document(page) is not None


def next_cursor(page: bytes) -> str | None:
    """The cursor for the following page; None when absent, null or not text/number."""
    document = _document(page)
    value = None if document is None else document.get("next")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


def payload(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"items": records, "next": None}, ensure_ascii=False).encode("utf-8")
