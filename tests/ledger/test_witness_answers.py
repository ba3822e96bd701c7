"""What a witness's answer means (ledger.service.witnessing.read_answer): a 200 counts only for
a cosignature by the witness's registered key that verifies, a 409 only with the size laid out
as the spec has it, and anything else is a reason to log, in one printable line."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.cosignature import TIMESTAMP_MAX_S, CosignatureSigner, CosignatureVerifier
from ledger.contract.note_keys import Signer
from ledger.contract.witness_protocol import SIZE_CONTENT_TYPE, cosignature_response
from ledger.infra.witness_client import WitnessAnswer
from ledger.service.witnessing import (
    Cosigned,
    CosignRequest,
    NotCosigned,
    WitnessHolds,
    WitnessTarget,
    read_answer,
)

ORIGIN = "bank.example/ledger"
TEXT = Checkpoint(ORIGIN, 5, os.urandom(32)).text()
ASKED = CosignRequest("ledger", 1, 5,
                      sign_checkpoint(Checkpoint.parse(TEXT),
                                      Signer(ORIGIN, Ed25519PrivateKey.generate())), 0, ())
KEY = CosignatureSigner("town.example/witness", Ed25519PrivateKey.generate())
TOWN = WitnessTarget("town", "http://town.example", CosignatureVerifier.from_vkey(KEY.vkey()))


def read(status: int, body: bytes, content_type: str = "text/plain") -> object:
    return read_answer(WitnessAnswer(status, content_type, body), TOWN, ASKED)


def test_only_the_witness_s_own_cosignature_counts() -> None:
    other = CosignatureSigner("other.example/witness", Ed25519PrivateKey.generate())
    mine = KEY.cosign(TEXT, 1_780_000_000)
    verdict = read(200, cosignature_response([other.cosign(TEXT, 1_780_000_000), mine]))
    assert isinstance(verdict, Cosigned)
    ((signature, at),) = verdict.cosignatures
    assert signature == mine
    assert int(at.timestamp()) == 1_780_000_000
    # A cosignature of another checkpoint does not verify for this one.
    elsewhere = KEY.cosign(Checkpoint(ORIGIN, 6, os.urandom(32)).text(), 1_780_000_000)
    refused = read(200, cosignature_response([elsewhere]))
    assert isinstance(refused, NotCosigned)
    assert "does not verify" in refused.reason
    beyond = read(200, cosignature_response([KEY.cosign(TEXT, TIMESTAMP_MAX_S)]))
    assert isinstance(beyond, NotCosigned)
    assert "beyond any date" in beyond.reason
    garbage = read(200, b"not a signature line\n")
    assert isinstance(garbage, NotCosigned)
    assert "answered 200 without cosignature lines" in garbage.reason


def test_a_conflict_counts_only_with_its_size() -> None:
    assert read(409, b"12\n", SIZE_CONTENT_TYPE) == WitnessHolds(12)
    wrong_type = read(409, b"12\n", "application/problem+json")
    assert isinstance(wrong_type, NotCosigned)
    assert "not text/x.tlog.size" in wrong_type.reason
    no_size = read(409, b"twelve\n", SIZE_CONTENT_TYPE)
    assert isinstance(no_size, NotCosigned)
    assert "without a size" in no_size.reason


def test_any_other_answer_is_its_status_and_first_line() -> None:
    assert read(503, b'{"detail": "down\x1b[31m for the night"}\nmore') == NotCosigned(
        'answered 503 Service Unavailable: {"detail": "down?[31m for the night"}')
    assert read(599, b"") == NotCosigned("answered 599: (empty body)")
    long = read(422, b"x" * 10_000)
    assert isinstance(long, NotCosigned)
    assert len(long.reason) < 300
