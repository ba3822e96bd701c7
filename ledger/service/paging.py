"""Keyset pages: a list read from just past the last key the reader saw, one row more than
asked so that whether another page follows is known without counting (SPEC §7).

Newest first serves people (the console shows what happened last at the top); oldest first
serves machines walking the whole list (the API's `?after=`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

PAGE_SIZE_MAX = 1000
# The largest key a BIGINT column holds; a cursor beyond it could not even be bound.
KEY_MAX = 2**63 - 1

Row = TypeVar("Row")
# An integer column pages are keyed on (a nullable one, such as platform_seq, once the rows
# without a value are filtered out).
Key = InstrumentedAttribute[int] | InstrumentedAttribute[int | None]


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after `cursor` (oldest first) or before it (newest first); no
    cursor starts at the beginning (or at the newest)."""

    limit: int
    cursor: int | None = None
    newest_first: bool = False

    def __post_init__(self) -> None:
        assert 1 <= self.limit <= PAGE_SIZE_MAX, f"a page holds 1-{PAGE_SIZE_MAX} items"
        assert self.cursor is None or 0 <= self.cursor <= KEY_MAX


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    next: int | None  # the cursor of the following page; None on the last page


def read_page(session: Session, statement: Select[Row], key: Key,
              keyset: Keyset) -> Page[Row]:
    """The page of `statement` (already filtered) that `keyset` asks for, ordered by `key`."""
    if keyset.newest_first:
        if keyset.cursor is not None:
            statement = statement.where(key < keyset.cursor)
        statement = statement.order_by(key.desc())
    else:
        statement = statement.where(key > (keyset.cursor or 0)).order_by(key)
    rows = list(session.scalars(statement.limit(keyset.limit + 1)))
    shown = rows[:keyset.limit]
    more = len(rows) > keyset.limit
    return Page(shown, _key_of(shown[-1], key) if more else None)


def _key_of(row: Any, key: Key) -> int:
    value = getattr(row, key.key)
    assert isinstance(value, int)
    return value


# Opens a session for one batch: a sessionmaker (a transaction per batch) or a caller's own
# session kept open (one transaction throughout).
SessionScope = Callable[[], AbstractContextManager[Session]]


def key_ordered_batches(scope: SessionScope, statement: Select[Row],
                        key: InstrumentedAttribute[int], batch_size: int,
                        after: int = 0) -> Iterator[list[Row]]:
    """Every row of `statement` in `key` order, a batch at a time, each batch read in a
    `scope()` of its own and detached from it (so the caller's memory stays bounded)."""
    while True:
        with scope() as session:
            rows = list(session.scalars(
                statement.where(key > after).order_by(key).limit(batch_size)))
            for row in rows:
                session.expunge(row)
        if not rows:
            return
        yield rows
        after = _key_of(rows[-1], key)
