"""What 平安共富积分 sends: one push body, a JSON array of activity records."""

from __future__ import annotations

import json
from typing import Any

from adapters.base.json_records import json_records
from adapters.base.records import NativeRecord


def native_records(body: bytes, prefix: str) -> list[NativeRecord]:
    # A single object is taken too (json_records does): refusing it would lose a real record.
    return json_records(body, prefix)


def payload(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records, ensure_ascii=False).encode("utf-8")
