"""What 沥家园 sends: one webhook body, a JSON object or an array of them."""

from __future__ import annotations

import json
from typing import Any

from adapters.base.json_records import json_records
from adapters.base.records import NativeRecord


def native_records(body: bytes, prefix: str) -> list[NativeRecord]:
    return json_records(body, prefix)


def payload(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records, ensure_ascii=False).encode("utf-8")
