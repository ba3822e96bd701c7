"""Fixtures for the operations tests: a user per role with a token."""

from __future__ import annotations

import pytest

from ledger.bootstrap import Ledger
from tests.api.support import Tokens, create_tokens


@pytest.fixture
def tokens(ledger: Ledger) -> Tokens:
    return create_tokens(ledger.sessions)


# The branch counter of tests/counter, for the redemption counter's test.
from tests.counter.conftest import counter, points_platform, staff  # noqa: E402, F401
