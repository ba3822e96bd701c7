"""A stand-in for the ledger's API as an adapter's receipt collector sees it (SPEC §14), served by
a real HTTP server on a free port: an event's inclusion proof with the latest signed
checkpoint, what became of an event, and consistency proofs.

Its log is kept in memory as leaf hashes and hashed with ledger.contract.merkle; its checkpoints
are signed with a ledger.contract.note_keys.Signer, as the ledger signs its own. A test can
break it the ways a ledger could: answer 503, refuse the token, tamper with a proof, or rewrite
its history (a fork). Only the three calls the collector makes are served, with the documents
the ledger's API promises; an end-to-end test would point the collector at the real API
instead (`pointsledger serve`), which is why the collector's tests go through this server
rather than a fake client.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
)
from ledger.contract.note_keys import Signer

ORIGIN = "ledger.test/pointsledger"
TOKEN = "plt_the-platform-operators-token"
EVENT_PROOF = re.compile(r"^/api/v1/platforms/([^/]+)/events/([^/]+)/proof$")
EVENT_STATUS = re.compile(r"^/api/v1/platforms/([^/]+)/events/([^/]+)$")
CONSISTENCY = "/api/v1/ledger/proofs/consistency"

Document = dict[str, Any]


class FakeLedger:
    """The ledger's log and what its API answers about it; `platform` is the one platform the
    token's operator may ask about."""

    def __init__(self, platform: str, origin: str = ORIGIN) -> None:
        self.platform = platform
        self.signer = Signer(origin, Ed25519PrivateKey.generate())
        self.token = TOKEN
        self.leaves: list[bytes] = []
        self.seq_of: dict[str, int] = {}
        self.rejected: dict[str, str] = {}
        self.checkpoint: str | None = None  # the latest signed note
        self.unavailable = False
        self.redirect_to: str | None = None  # answer every request with a redirect there
        # Changes each proof document before it is sent (a tampering ledger).
        self.tamper: Callable[[Document], Document] | None = None
        self.asked: list[str] = []  # the paths asked for (percent-decoded), in order
        self._lock = threading.Lock()

    @property
    def vkey(self) -> str:
        return self.signer.vkey()

    def record(self, event_id: str, body: bytes, platform: str | None = None) -> int:
        """Append an entry for the event (its document holds the body, as the ledger's does)."""
        seq = len(self.leaves) + 1
        entry = {"seq": seq, "platform": platform or self.platform, "event_id": event_id,
                 "body": body.decode("utf-8")}
        self.leaves.append(leaf_hash(json.dumps(entry, sort_keys=True).encode()))
        if platform is None:
            self.seq_of[event_id] = seq
        return seq

    def reject(self, event_id: str, reason: str) -> None:
        self.rejected[event_id] = reason

    def sign_checkpoint(self) -> str:
        """Sign the tree as it is now; the proofs are given in it from now on."""
        checkpoint = Checkpoint(self.signer.name, len(self.leaves),
                                root_from_leaf_hashes(self.leaves))
        self.checkpoint = sign_checkpoint(checkpoint, self.signer)
        return self.checkpoint

    def rewrite(self, seq: int, replacement: bytes) -> None:
        """Change an entry behind everyone's back: later checkpoints are of another history."""
        self.leaves[seq - 1] = leaf_hash(replacement)

    def hash_at(self, level: int, index: int) -> bytes:
        width = 1 << level
        return root_from_leaf_hashes(self.leaves[index * width:(index + 1) * width])

    def checkpoint_size(self) -> int:
        assert self.checkpoint is not None
        return int(self.checkpoint.split("\n")[1])

    # -- what the API answers: (status, document) ---------------------------------------------

    def answer(self, path: str, authorization: str | None) -> tuple[int, Document]:
        with self._lock:
            self.asked.append(urllib.parse.unquote(path))
            if self.unavailable:
                return _problem(503, "database_unavailable")
            if self.redirect_to is not None:
                return 302, {"location": self.redirect_to + path}
            parsed = urllib.parse.urlsplit(path)
            if parsed.path == CONSISTENCY:
                query = urllib.parse.parse_qs(parsed.query)
                return self._consistency(int(query["first"][0]), int(query["second"][0]))
            for pattern, answer in ((EVENT_PROOF, self._proof), (EVENT_STATUS, self._status)):
                match = pattern.match(parsed.path)
                if match:
                    if authorization != f"Bearer {self.token}":
                        return _problem(401, "unauthenticated")
                    platform, event_id = (urllib.parse.unquote(part) for part in match.groups())
                    if platform != self.platform:
                        return _problem(403, "wrong_platform")
                    return answer(event_id)
            return _problem(404, "not_found")

    def proof_of(self, event_id: str) -> Document:
        """The untampered proof of a recorded event in the latest checkpoint."""
        seq = self.seq_of[event_id]
        size = self.checkpoint_size()
        return {"seq": seq, "leaf_index": seq - 1, "tree_size": size,
                "leaf_hash": self.leaves[seq - 1].hex(),
                "hashes": [hash_.hex() for hash_ in inclusion_proof(seq - 1, size, self.hash_at)],
                "checkpoint": self.checkpoint}

    def _proof(self, event_id: str) -> tuple[int, Document]:
        seq = self.seq_of.get(event_id)
        if seq is None:
            return _problem(404, "event_not_recorded")
        if self.checkpoint is None or seq > self.checkpoint_size():
            return _problem(404, "not_yet_checkpointed")
        document = self.proof_of(event_id)
        return 200, self.tamper(document) if self.tamper else document

    def _status(self, event_id: str) -> tuple[int, Document]:
        if event_id in self.seq_of:
            return 200, {"outcome": "recorded", "seq": self.seq_of[event_id]}
        if event_id in self.rejected:
            return 200, {"outcome": "rejected", "reason": self.rejected[event_id],
                         "detail": "rejected by the fake ledger"}
        return _problem(404, "not_found")

    def _consistency(self, first: int, second: int) -> tuple[int, Document]:
        hashes = consistency_proof(first, second, self.hash_at)
        return 200, {"first": first, "second": second, "hashes": [hash_.hex() for hash_ in hashes]}


def _problem(status: int, code: str) -> tuple[int, Document]:
    return status, {"type": f"https://pointsledger.test/problems/{code}", "status": status,
                    "title": code, "detail": code, "code": code}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, document = self.server.ledger.answer(self.path,
                                                     self.headers.get("authorization"))
        body = json.dumps(document).encode()
        self.send_response(status)
        if status == 302:
            self.send_header("location", document["location"])
        self.send_header("content-type", "application/json" if status == 200
                         else "application/problem+json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ledger: FakeLedger) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.ledger = ledger


@contextmanager
def serving(ledger: FakeLedger) -> Iterator[str]:
    """The ledger's API served on a free port of 127.0.0.1; yields its base URL."""
    server = _Server(ledger)
    thread = threading.Thread(target=server.serve_forever, name="fake-ledger-api", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
