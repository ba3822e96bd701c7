"""What changed between two rule-set documents, path by path (`tiers[1].limit_uplift_cny`).

Objects are compared member by member and lists item by item (a tier is known by its place, as
the first tier that matches wins); a member or item only on one side shows as absent (None) on
the other. Scalars that differ are one change each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    path: str
    before: Any  # None: absent before
    after: Any  # None: absent after

    def line(self) -> str:
        return f"{self.path}: {_shown(self.before)} → {_shown(self.after)}"


def diff(before: Any, after: Any) -> list[Change]:
    changes: list[Change] = []
    _walk(before, after, "", changes)
    return changes


def _walk(before: Any, after: Any, path: str, changes: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            _walk(before.get(key), after.get(key), f"{path}.{key}" if path else key, changes)
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            _walk(before[index] if index < len(before) else None,
                  after[index] if index < len(after) else None, f"{path}[{index}]", changes)
    elif before != after or type(before) is not type(after):
        changes.append(Change(path or "$", before, after))


def _shown(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)
