"""Keyset pagination: `?after=<cursor>&limit=<n>` → `{"items": [...], "next": cursor-or-null}`.

The cursor is the key of the last item returned (an entry's `seq`, a rejection's `id`). Pages are
read with one row more than asked, so `next` is null exactly on the last page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

from ledger.api.fields import BoundedInteger
from ledger.service.paging import Keyset, Page

LIMIT_DEFAULT = 100
LIMIT_MAX = 1000

Row = TypeVar("Row")


class PageQuerySchema(Schema):
    # Bounded: a cursor past a BIGINT was a 500 (SQLite cannot even bind it).
    after = BoundedInteger(load_default=0,
                           metadata={"description": "the `next` of the previous page"})
    limit = fields.Integer(load_default=LIMIT_DEFAULT, validate=validate.Range(1, LIMIT_MAX),
                           metadata={"description": f"items per page, 1-{LIMIT_MAX}"})


@dataclass(frozen=True)
class PageRequest:
    after: int
    limit: int

    @classmethod
    def of(cls, query: dict[str, Any]) -> PageRequest:
        return cls(after=int(query["after"]), limit=int(query["limit"]))

    @property
    def rows_to_read(self) -> int:
        return self.limit + 1

    @property
    def keyset(self) -> Keyset:
        """The same page, asked of a service function (oldest first, after the cursor)."""
        return Keyset(self.limit, self.after)


def page(rows: Sequence[Row], asked: PageRequest, key: Callable[[Row], int],
         item: Callable[[Row], Any]) -> dict[str, Any]:
    """The page document from up to `asked.rows_to_read` rows read in key order."""
    shown = rows[:asked.limit]
    more = len(rows) > asked.limit
    return {"items": [item(row) for row in shown], "next": key(shown[-1]) if more else None}


def page_document(found: Page[Row], item: Callable[[Row], Any]) -> dict[str, Any]:
    """The page document of a page a service function read."""
    return {"items": [item(row) for row in found.items], "next": found.next}
