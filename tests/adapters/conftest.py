from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.resident_id import synthetic_id_number
from ledger.contract.signing import EventSigner


@pytest.fixture
def key_pair_signer() -> EventSigner:
    return EventSigner(Ed25519PrivateKey.generate())


@pytest.fixture
def resident_id() -> str:
    return synthetic_id_number(random.Random(11))
