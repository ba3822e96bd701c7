"""The residents the adapter has seen: pseudonym → their ID number, sealed
(adapters.base.residents), to deliver the ledger's notices in the platform's own terms."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import insert, select

from adapters.base.outbox.rows import Connect
from adapters.base.outbox.tables import residents

# Bound the IN lists (SQLite limits the parameters of one statement).
RESIDENTS_PER_QUERY_MAX = 500


class ResidentDirectory:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def sealed_id_number(self, resident: str) -> bytes | None:
        with self._connect() as connection:
            sealed = connection.scalar(select(residents.c.sealed_id_number)
                                       .where(residents.c.resident == resident))
        return None if sealed is None else bytes(sealed)

    def remember(self, id_numbers: Mapping[str, str], seal: Callable[[str, str], bytes]) -> None:
        """Keep the sealed ID number of each resident (pseudonym → ID number) not yet known;
        only those are sealed, and the first seal stays."""
        known: set[str] = set()
        names = list(id_numbers)
        with self._connect() as connection:
            for start in range(0, len(names), RESIDENTS_PER_QUERY_MAX):
                chunk = names[start:start + RESIDENTS_PER_QUERY_MAX]
                known.update(connection.scalars(
                    select(residents.c.resident).where(residents.c.resident.in_(chunk))))
            new = [{"resident": resident, "sealed_id_number": seal(resident, id_number)}
                   for resident, id_number in id_numbers.items() if resident not in known]
            if new:
                connection.execute(insert(residents), new)
