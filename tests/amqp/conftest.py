"""Fixtures for the broker tests: a ledger on its own PostgreSQL database and RabbitMQ vhost."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.bootstrap import Ledger
from tests.amqp.support import consumer_environment
from tests.support import PlatformFixture, register_platform


@pytest.fixture
def platform_without_topology(broker_ledger: Ledger) -> PlatformFixture:
    return register_platform(broker_ledger.sessions)


@pytest.fixture
def consumer_env(postgres_url: str, amqp_url: str, tmp_path: Path) -> dict[str, str]:
    return consumer_environment(postgres_url, amqp_url, tmp_path)
