"""Fixtures for the broker tests: a ledger on its own PostgreSQL database and RabbitMQ vhost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger, build
from tests.amqp.support import consumer_environment, declare
from tests.conftest import make_settings
from tests.support import PlatformFixture, register_platform


@pytest.fixture
def broker_ledger(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build(make_settings(postgres_url, amqp_url, tmp_path))
    yield built
    built.close()


@pytest.fixture
def broker_platform(broker_ledger: Ledger, amqp_url: str) -> PlatformFixture:
    """A registered platform, and the topology declared so that publishing is routed."""
    platform = register_platform(broker_ledger.sessions)
    declare(amqp_url, [platform.code])
    return platform


@pytest.fixture
def platform_without_topology(broker_ledger: Ledger) -> PlatformFixture:
    return register_platform(broker_ledger.sessions)


@pytest.fixture
def consumer_env(postgres_url: str, amqp_url: str, tmp_path: Path) -> dict[str, str]:
    return consumer_environment(postgres_url, amqp_url, tmp_path)
