"""The ingest benchmark's yardstick: plain Ed25519 verifications per second on one core."""

from __future__ import annotations

import os
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

YARDSTICK_DURATION_S = 3.0


def ed25519_verifications_per_s(message_size_bytes: int,
                                duration_s: float = YARDSTICK_DURATION_S) -> float:
    """Verify one signature over a message of that size in a loop, on this thread only."""
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    message = os.urandom(message_size_bytes)
    signature = private_key.sign(message)
    verifications = 0
    started = time.perf_counter()
    while True:
        for _ in range(100):
            public_key.verify(signature, message)
        verifications += 100
        elapsed = time.perf_counter() - started
        if elapsed >= duration_s:
            return verifications / elapsed
