"""Producing signed events: what a platform (or an adapter on its behalf) sends."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.webhook import signed_headers


@dataclass(frozen=True)
class SignedEvent:
    event_id: str
    body: bytes
    headers: dict[str, str]


def event_body(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; `datetime` values become RFC 3339 text with their offset."""
    def encode(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"cannot encode {type(value).__name__}")

    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=encode).encode()


class EventSigner:
    """Signs events for one platform with one private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key

    def sign_body(self, event_id: str, body: bytes, timestamp: int | None = None) -> SignedEvent:
        stamp = int(time.time()) if timestamp is None else timestamp
        return SignedEvent(event_id, body, signed_headers(self._private_key, event_id, stamp, body))

    def sign(self, event: dict[str, Any], timestamp: int | None = None) -> SignedEvent:
        return self.sign_body(str(event["event_id"]), event_body(event), timestamp)
