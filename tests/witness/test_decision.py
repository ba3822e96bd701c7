"""What a witness answers to add-checkpoint (C2SP tlog-witness), decided without I/O: each
status the spec prescribes, and a cosignature that a log's clients can check."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.merkle import EMPTY_ROOT
from ledger.contract.note import SIGNATURES_PER_NOTE_MAX, NoteSignature, add_signatures
from ledger.contract.note_keys import KeyMalformed, Signer
from ledger.contract.witness_protocol import add_checkpoint_request
from ledger.witness.decision import (
    NEVER_COSIGNED,
    Cosigned,
    Cosigning,
    LogKeys,
    Refusal,
    authenticate,
    decide,
    log_keys,
)
from tests.witness.support import NOW_S, ORIGIN, Log, new_log, new_witness_key, witness_verifier

WITNESS = new_witness_key()


@pytest.fixture
def log() -> Log:
    return new_log()


def _logs(*logs: Log) -> LogKeys:
    return log_keys(log.vkey for log in logs)


def _answer(log: Log, body: bytes, last: Cosigned = NEVER_COSIGNED) -> Cosigning:
    return decide(authenticate(body, _logs(log)), last, WITNESS, NOW_S)


def _refusal(log: Log, body: bytes, last: Cosigned = NEVER_COSIGNED,
             logs: LogKeys | None = None) -> Refusal:
    with pytest.raises(Refusal) as caught:
        decide(authenticate(body, _logs(log) if logs is None else logs), last, WITNESS, NOW_S)
    return caught.value


def _cosigned(log: Log, size: int) -> Cosigned:
    return Cosigned(size, log.root(size))


def test_first_checkpoint_from_old_zero_with_an_empty_proof_is_cosigned(log: Log) -> None:
    cosigning = _answer(log, log.request(0, 7))
    assert cosigning.cosigned == _cosigned(log, 7)


def test_the_cosignature_verifies_with_the_witness_key_and_is_dated_now(log: Log) -> None:
    note = log.checkpoint(7)
    cosigning = _answer(log, log.request(0, 7, note=note))
    (signature,) = cosigning.signatures
    verifier = witness_verifier(WITNESS)
    checkpoint, opened = open_checkpoint(add_signatures(note, cosigning.signatures), ORIGIN,
                                         log.verifier(), [verifier])
    assert checkpoint.size == 7
    assert (verifier.name, verifier.key_id) in {(s.name, s.key_id) for s in opened.signatures}
    assert verifier.timestamp_of(opened.text, signature) == NOW_S


def test_the_note_to_keep_holds_the_log_signature_and_the_cosignature_only(log: Log) -> None:
    # Other witnesses' lines in the request (up to the note's limit) are not kept.
    others = [NoteSignature(f"other.example/w{i}", i, bytes(72))
              for i in range(SIGNATURES_PER_NOTE_MAX - 1)]
    note = add_signatures(log.checkpoint(7), others)
    cosigning = _answer(log, log.request(0, 7, note=note))
    _, kept = open_checkpoint(cosigning.note, ORIGIN, log.verifier(), [witness_verifier(WITNESS)])
    assert len(kept.signatures) == 2 and kept.unverified == ()


def test_growth_with_a_valid_consistency_proof_is_cosigned(log: Log) -> None:
    for old, size in [(1, 2), (3, 8), (5, 13), (8, 20), (13, 13)]:
        assert _answer(log, log.request(old, size), _cosigned(log, old)).cosigned == \
            _cosigned(log, size)


def test_the_empty_tree_is_cosigned_from_zero(log: Log) -> None:
    assert _answer(log, log.request(0, 0)).cosigned == Cosigned(0, EMPTY_ROOT)


def test_the_same_checkpoint_again_is_cosigned_again_without_change(log: Log) -> None:
    assert _answer(log, log.request(9, 9), _cosigned(log, 9)).cosigned == _cosigned(log, 9)


def test_an_old_size_other_than_the_last_cosigned_is_a_conflict_naming_that_size(
        log: Log) -> None:
    refusal = _refusal(log, log.request(5, 13), _cosigned(log, 8))
    assert refusal.status == HTTPStatus.CONFLICT
    assert refusal.cosigned_size == 8


def test_a_log_that_lost_its_witness_state_learns_the_size_by_asking_from_zero(
        log: Log) -> None:
    refusal = _refusal(log, log.request(0, 13), _cosigned(log, 8))
    assert (refusal.status, refusal.cosigned_size) == (HTTPStatus.CONFLICT, 8)


def test_rollback_to_a_smaller_size_is_refused(log: Log) -> None:
    last = _cosigned(log, 13)
    # From the size the witness holds: the old size is larger than the checkpoint's (400)…
    refusal = _refusal(log, log.request(13, 5, proof=[]), last)
    assert refusal.status == HTTPStatus.BAD_REQUEST
    assert "13" in refusal.reason and "5" in refusal.reason
    # …from any other size: not what it last cosigned (409, with its size).
    refusal = _refusal(log, log.request(5, 5), last)
    assert (refusal.status, refusal.cosigned_size) == (HTTPStatus.CONFLICT, 13)


def test_a_fork_at_the_size_cosigned_is_refused(log: Log) -> None:
    fork = Log(log.signer, history="rewritten")
    refusal = _refusal(fork, fork.request(8, 8), _cosigned(log, 8))
    assert refusal.status == HTTPStatus.CONFLICT
    assert refusal.cosigned_size == 8
    assert "fork" in refusal.reason


def test_a_fork_that_grew_does_not_prove_consistent_with_what_was_cosigned(log: Log) -> None:
    fork = Log(log.signer, history="rewritten")
    refusal = _refusal(fork, fork.request(8, 12), _cosigned(log, 8))
    assert refusal.status == HTTPStatus.UNPROCESSABLE_ENTITY


def test_a_proof_that_does_not_verify_is_unprocessable(log: Log) -> None:
    proof = log.proof(5, 13)
    tampered = [bytes(32), *proof[1:]]
    for bad in (tampered, proof[:-1], [*proof, bytes(32)]):
        refusal = _refusal(log, log.request(5, 13, proof=bad), _cosigned(log, 5))
        assert refusal.status == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "5" in refusal.reason and "13" in refusal.reason


def test_a_proof_from_size_zero_must_be_empty(log: Log) -> None:
    refusal = _refusal(log, log.request(0, 8, proof=log.proof(4, 8)))
    assert refusal.status == HTTPStatus.UNPROCESSABLE_ENTITY


def test_a_checkpoint_not_signed_by_the_log_key_is_forbidden(log: Log) -> None:
    impostor = new_log()  # the same origin, another key
    refusal = _refusal(log, impostor.request(0, 7), logs=_logs(log))
    assert refusal.status == HTTPStatus.FORBIDDEN


def test_a_checkpoint_whose_text_was_altered_after_signing_is_forbidden(log: Log) -> None:
    note = log.checkpoint(7)
    altered = note.replace("\n7\n", "\n8\n", 1)
    refusal = _refusal(log, add_checkpoint_request(0, [], altered))
    assert refusal.status == HTTPStatus.FORBIDDEN


def test_a_checkpoint_of_an_unknown_origin_is_not_found(log: Log) -> None:
    stranger = new_log("example.org/stranger")
    refusal = _refusal(log, stranger.request(0, 7), logs=_logs(log))
    assert refusal.status == HTTPStatus.NOT_FOUND
    assert "example.org/stranger" in refusal.reason


@pytest.mark.parametrize("body", [
    b"",
    b"old 0\n",
    b"new 0\n\nexample.org/ledger\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
    b"old 01\n\n",
    b"old -1\n\n",
    b"old 0\nnot base64\n\n",
    b"old 0\nAAAA\n\n",
    b"old 0\n" + b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" * 64 + b"\n",
    b"old 0\n\n\xff",
    b"old 0\n\nexample.org/ledger\n7\n",
    b"old 0\n\nexample.org/ledger\nseven\nroot\n\n\xe2\x80\x94 example.org/ledger AAAAAAAA\n",
], ids=["empty", "no-empty-line", "not-old", "leading-zero", "negative", "proof-not-base64",
        "proof-not-a-hash", "64-proof-lines", "not-utf8", "unsigned-note", "not-a-checkpoint"])
def test_a_malformed_body_is_a_bad_request(log: Log, body: bytes) -> None:
    assert _refusal(log, body).status == HTTPStatus.BAD_REQUEST


def test_an_old_size_larger_than_the_checkpoint_is_a_bad_request(log: Log) -> None:
    assert _refusal(log, log.request(9, 7, proof=[])).status == HTTPStatus.BAD_REQUEST


def test_the_refusals_name_the_origin_once_it_is_read(log: Log) -> None:
    assert _refusal(log, log.request(3, 5), _cosigned(log, 4)).origin == ORIGIN
    assert _refusal(log, b"").origin is None


def test_a_log_may_be_trusted_under_two_keys_while_its_key_changes(log: Log) -> None:
    successor = Log(Signer(ORIGIN, Ed25519PrivateKey.generate()))
    logs = _logs(log, successor)
    assert set(logs) == {ORIGIN} and len(logs[ORIGIN]) == 2
    submission = authenticate(successor.request(0, 3), logs)
    assert submission.checkpoint == Checkpoint(ORIGIN, 3, successor.root(3))


def test_a_key_given_twice_counts_once_and_a_bad_one_is_refused(log: Log) -> None:
    assert len(log_keys([log.vkey, log.vkey])[ORIGIN]) == 1
    with pytest.raises(KeyMalformed):
        log_keys([WITNESS.vkey()])  # a cosignature key (type 0x04) does not sign checkpoints
