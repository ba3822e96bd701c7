"""The adapter's own values, by name: a feed's cursor, how far the broker confirmed the events."""

from __future__ import annotations

from sqlalchemy import Connection, select

from adapters.base.outbox.rows import Connect, upsert
from adapters.base.outbox.tables import adapter_state


class AdapterState:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def get(self, name: str) -> str | None:
        with self._connect() as connection:
            return state_value(connection, name)

    def set(self, name: str, value: str) -> None:
        with self._connect() as connection:
            set_state_value(connection, name, value)


def state_value(connection: Connection, name: str) -> str | None:
    return connection.scalar(select(adapter_state.c.value).where(adapter_state.c.name == name))


def set_state_value(connection: Connection, name: str, value: str) -> None:
    upsert(connection, adapter_state, {"name": name, "value": value}, key=("name",))
