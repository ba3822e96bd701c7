"""Fixtures for the HTTP API: an app on the per-test ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.api import create_app
from ledger.bootstrap import Ledger
from tests.api.support import Tokens, create_tokens


@pytest.fixture
def app(ledger: Ledger) -> Flask:
    return create_app(ledger=ledger)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(ledger: Ledger) -> Tokens:
    return create_tokens(ledger.sessions)
