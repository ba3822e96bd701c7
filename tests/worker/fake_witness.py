"""A C2SP tlog-witness for tests: a real HTTP server on 127.0.0.1 that does what the spec says
a witness does, with the shared codec (ledger.contract.witness_protocol) and the contract's
checkpoint, proof and cosignature code. It keeps each log's last size and root, refuses what the
spec refuses with the spec's status, and checks every consistency proof it is sent.

Beside the protocol it can be told to misbehave (`tamper`: cosignatures that do not verify;
`hang_s`: hold each request that long before answering, until `stop_hanging`) and it keeps
every request it answered, so tests can see what was sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.merkle import ProofInvalid, verify_consistency
from ledger.contract.note import NoteSignature, split_note
from ledger.contract.note_keys import NoteError, Verifier
from ledger.contract.witness_protocol import (
    SIZE_CONTENT_TYPE,
    WitnessMessageMalformed,
    cosignature_response,
    parse_add_checkpoint_request,
    size_body,
)


@dataclass(frozen=True)
class Taken:
    """A request the witness answered: the log, the old size and proof length, the checkpoint's
    size, and the status it answered."""

    origin: str
    old_size: int
    proof_hashes: int
    size: int
    status: int


def new_witness_key(name: str = "witness.test/town") -> CosignatureSigner:
    return CosignatureSigner(name, Ed25519PrivateKey.generate())


class FakeWitness:
    def __init__(self, log_vkeys: Iterable[str], signer: CosignatureSigner | None = None,
                 port: int = 0) -> None:
        self.signer = signer or new_witness_key()
        self.logs = {verifier.name: verifier
                     for verifier in map(Verifier.from_vkey, log_vkeys)}
        self.state: dict[str, tuple[int, bytes]] = {}  # origin -> last size, root cosigned
        self.taken: list[Taken] = []
        self.tamper = False
        self.hang_s = 0.0
        self.arrived = 0  # requests received, answered or not yet
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def vkey(self) -> str:
        return self.signer.vkey()

    def accepted(self, origin: str) -> list[tuple[int, int]]:
        """(old size, size) of each checkpoint of `origin` cosigned, in order."""
        return [(t.old_size, t.size) for t in self.taken
                if t.origin == origin and t.status == HTTPStatus.OK]

    def stop_hanging(self) -> None:
        self.hang_s = 0.0
        self._released.set()

    def hold(self) -> None:
        """What a request waits before it is answered."""
        with self._lock:
            self.arrived += 1
        if self.hang_s:
            self._released.wait(self.hang_s)

    def close(self) -> None:
        self.stop_hanging()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) of an add-checkpoint request, as the spec has them."""
        try:
            request = parse_add_checkpoint_request(body)
            text, _ = split_note(request.checkpoint_note)
            origin = Checkpoint.parse(text).origin
        except (WitnessMessageMalformed, NoteError) as error:
            return HTTPStatus.BAD_REQUEST, "text/plain", f"{error}\n".encode()
        verifier = self.logs.get(origin)
        if verifier is None:
            return HTTPStatus.NOT_FOUND, "text/plain", b"unknown log\n"
        try:
            checkpoint, _ = open_checkpoint(request.checkpoint_note, origin, verifier)
        except NoteError:
            return HTTPStatus.FORBIDDEN, "text/plain", b"not signed by the log's key\n"
        old, size, root = request.old_size, checkpoint.size, checkpoint.root_hash
        if old > size:
            return HTTPStatus.BAD_REQUEST, "text/plain", b"old size beyond the checkpoint\n"
        with self._lock:  # checking the old size and keeping the new one are one step
            status, answer = self._check(origin, old, size, root, request.proof)
            self.taken.append(Taken(origin, old, len(request.proof), size, status))
        if status != HTTPStatus.OK:
            return status, answer[0], answer[1]
        cosignature = self.signer.cosign(text, int(time.time()))
        if self.tamper:
            cosignature = NoteSignature(cosignature.name, cosignature.key_id,
                                        cosignature.signature[:-1]
                                        + bytes([cosignature.signature[-1] ^ 1]))
        return HTTPStatus.OK, "text/plain", cosignature_response([cosignature])

    def _check(self, origin: str, old: int, size: int, root: bytes,
               proof: tuple[bytes, ...]) -> tuple[int, tuple[str, bytes]]:
        last_size, last_root = self.state.get(origin, (0, b""))
        if old != last_size:
            return HTTPStatus.CONFLICT, (SIZE_CONTENT_TYPE, size_body(last_size))
        if old == size and root != last_root:
            return HTTPStatus.CONFLICT, (SIZE_CONTENT_TYPE, size_body(last_size))
        if old == 0:
            if proof:
                return HTTPStatus.UNPROCESSABLE_ENTITY, ("text/plain", b"a proof from 0\n")
        else:
            try:
                verify_consistency(old, size, last_root, root, proof)
            except ProofInvalid as error:
                return HTTPStatus.UNPROCESSABLE_ENTITY, ("text/plain", f"{error}\n".encode())
        self.state[origin] = (size, root)
        return HTTPStatus.OK, ("text/plain", b"")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: FakeWitness) -> None:
        self.witness = witness
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        witness = self.server.witness
        witness.hold()
        if self.path != "/add-checkpoint":
            status, content_type, answer = HTTPStatus.NOT_FOUND, "text/plain", b"not here\n"
        else:
            status, content_type, answer = witness.answer(body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a test of a witness that answers too late)

    def log_message(self, format: str, *args: Any) -> None:
        pass
