"""What the use cases need from the outside world, as protocols: here, where the use cases and
the infrastructure that implements them (ledger/infra) both see them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class QueueUnavailable(Exception):
    """The broker could not take the message (down, unroutable, or not confirmed)."""


class EventQueue(Protocol):
    """Where the broker-mode API puts verified events for the ledger consumer."""

    def publish(self, routing_key: str, message_id: str, body: bytes,
                headers: Mapping[str, str]) -> None:
        """Publish persistently with confirms and `mandatory`; raise QueueUnavailable if the
        broker did not confirm."""

    def ready(self) -> bool:
        """True when a connection to the broker can be used now (for /readyz)."""
