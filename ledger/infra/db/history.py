"""Reads the history a batch's decisions need (`ledger.domain.deciding.Needs`) in a few queries.

On PostgreSQL each lookup takes one array parameter; elsewhere (SQLite) IN lists of at most
IN_CLAUSE_SIZE_MAX values, below SQLite's limit of bound parameters per statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, String, any_, bindparam, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ledger.domain.deciding import History, Known, Needs
from ledger.infra.db.models import LedgerEntryRow

IN_CLAUSE_SIZE_MAX = 1000


def load_history(session: Session, needs: Needs) -> History:
    """The known entries and revoked awards `needs` names, as the caller's transaction sees
    them (read after the chain lock, so no other appender can change them meanwhile)."""
    if session.get_bind().dialect.name == "postgresql":
        return _load_with_arrays(session, needs)
    history = History()
    table = LedgerEntryRow
    for platform, ids in needs.event_ids.items():
        for chunk in _chunks(ids):
            _remember(history, platform, session.execute(
                _known_columns().where(table.platform == platform, table.event_id.in_(chunk))))
    for platform, seqs in needs.platform_seqs.items():
        for seq_chunk in _chunks(seqs):
            _remember(history, platform, session.execute(
                _known_columns().where(table.platform == platform,
                                       table.platform_seq.in_(seq_chunk))))
    for platform, targets in needs.revocation_targets.items():
        for chunk in _chunks(targets):
            history.revoked.update((platform, revoked) for revoked in session.scalars(
                select(table.revokes).where(table.platform == platform, table.revokes.in_(chunk))
            ) if revoked is not None)
    return history


def _load_with_arrays(session: Session, needs: Needs) -> History:
    """The same reads on PostgreSQL: one array parameter instead of a bind per value (a
    thousand-value IN list costs more to send and parse than the lookup itself)."""
    history = History()
    table = LedgerEntryRow
    for platform, ids in needs.event_ids.items():
        _remember(history, platform, session.execute(
            _known_columns().where(
                table.platform == platform,
                or_(table.event_id == any_(_text_array(sorted(ids))),
                    table.platform_seq == any_(
                        _bigint_array(sorted(needs.platform_seqs[platform])))))))
    for platform, targets in needs.revocation_targets.items():
        history.revoked.update((platform, revoked) for revoked in session.scalars(
            select(table.revokes).where(table.platform == platform,
                                        table.revokes == any_(_text_array(sorted(targets))))
        ) if revoked is not None)
    return history


def _remember(history: History, platform: str, rows: Iterable[Any]) -> None:
    for row in rows:
        history.remember(platform, Known(*row))


def _known_columns() -> Any:
    table = LedgerEntryRow
    return select(table.seq, table.entry_hash, table.kind, table.event_id, table.platform_seq,
                  table.resident, table.category, table.points, table.occurred_at, table.body)


def _text_array(values: list[str]) -> Any:
    return bindparam(None, values, type_=postgresql.ARRAY(String))


def _bigint_array(values: list[int]) -> Any:
    return bindparam(None, values, type_=postgresql.ARRAY(BigInteger))


_Item = TypeVar("_Item")


def _chunks(values: Iterable[_Item]) -> Iterable[list[_Item]]:
    items = list(values)
    for start in range(0, len(items), IN_CLAUSE_SIZE_MAX):
        yield items[start:start + IN_CLAUSE_SIZE_MAX]
