"""Helpers for tests: signed events, registered platforms, service URLs.

Services are never skipped: a test that needs PostgreSQL or RabbitMQ fails with a clear message
when the server is not reachable (see the README for how to start them).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from ledger.contract.signing import EventSigner, SignedEvent
from ledger.domain.verification import Delivery
from ledger.service import registry

POSTGRES_ADMIN_URL = os.environ.get(
    "POINTSLEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AMQP_BASE_URL = os.environ.get("POINTSLEDGER_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
RABBITMQCTL = os.environ.get("POINTSLEDGER_TEST_RABBITMQCTL", "rabbitmqctl")
TEST_PEPPER = "test-pepper-0123456789abcdef"
TEST_LOG_ORIGIN = "test.pointsledger.local/ledger"

RESIDENT_A = "a" * 64
RESIDENT_B = "b" * 64


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def stop_process(process: subprocess.Popen[Any], number: int, timeout_s: float) -> None:
    """Signal the process and wait for it; killed when it has not ended within `timeout_s`."""
    process.send_signal(number)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rabbitmqctl(*arguments: str) -> str:
    completed = subprocess.run(
        [RABBITMQCTL, *arguments], check=True, capture_output=True, text=True, timeout=60
    )
    return completed.stdout


@dataclass
class PlatformFixture:
    """A registered platform with one key, producing numbered, signed events."""

    code: str
    private_key: Ed25519PrivateKey
    key_id: str
    signer: EventSigner
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def event(self, **overrides: Any) -> dict[str, Any]:
        seq = overrides.pop("seq", None) or next(self._seq)
        event: dict[str, Any] = {
            "event_id": f"{self.code}-{seq}",
            "platform": self.code,
            "seq": seq,
            "type": "points.awarded",
            "resident": RESIDENT_A,
            "category": "garbage_sorting",
            "points": 10,
            "occurred_at": "2026-11-01T09:30:00+08:00",
        }
        event.update(overrides)
        return {key: value for key, value in event.items() if value is not None}

    def signed(self, event: dict[str, Any], timestamp: int | None = None) -> SignedEvent:
        return self.signer.sign(event, timestamp)

    def delivery(self, event: dict[str, Any] | None = None, channel: str = "http",
                 timestamp: int | None = None, **overrides: Any) -> Delivery:
        signed = self.signed(event if event is not None else self.event(**overrides), timestamp)
        return Delivery(signed.body, signed.headers, channel)


def register_platform(sessions: sessionmaker[Session], code: str = "lijiayuan",
                      name: str = "沥家园", township: str = "瓜沥镇") -> PlatformFixture:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        registry.add_platform(session, code, name, township, now)
        private_key, registered = registry.generate_key(session, code, now)
    return PlatformFixture(code, private_key, registered.key_id, EventSigner(private_key))
