"""Fixtures for the HTTP API: a user per role with a token (the app is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from ledger.bootstrap import Ledger
from tests.api.support import Tokens, create_tokens


@pytest.fixture
def tokens(ledger: Ledger) -> Tokens:
    return create_tokens(ledger.sessions)
