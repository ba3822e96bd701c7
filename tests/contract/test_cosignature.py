"""C2SP tlog-cosignature/v1 (Ed25519, type 0x04): what a witness signs and how it is checked."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import (
    Checkpoint,
    CheckpointMalformed,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.contract.cosignature import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    CosignatureMalformed,
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_timestamp,
    cosigned_message,
)
from ledger.contract.note import (
    SignatureInvalid,
    UnverifiedNote,
    add_signatures,
    open_note,
    parse_signature_lines,
    split_note,
)
from ledger.contract.note_keys import KeyMalformed, Signer, Verifier, VerifierKey, key_id

# The examples of C2SP/C2SP, tlog-cosignature.md: a checkpoint with the log's signature and a
# witness's cosignature, and the message a witness signs at time 1679315147.
SOFA_TEXT = ("example.com/behind-the-sofa\n"
             "20852163\n"
             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SOFA_COSIGNED = (
    SOFA_TEXT + "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2"
    "q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b"
    "2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
SOFA_SIGNED_MESSAGE = ("cosignature/v1\n"
                       "time 1679315147\n"
                       "example.com/behind-the-sofa\n"
                       "20852163\n"
                       "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")

# Witness verifier keys of type 0x04, from transparency-dev/formats, note/note_cosigv1_test.go
# (TestCoSigV1NewVerifier), and project-oak/oak's tlog-proof tests (TEST_WITNESS_VKEY).
WITNESS_VKEYS = [
    ("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", 0xDA77ADE7),
    ("test-witness+26349ef0+BIQDFTUlktisMqJzWn8qhteWrRr4dLcQ9R37T+8LQyQF", 0x26349EF0),
]
# A type-0x01 key of the same test ("works: convert from algEd25519"), and a cosignature whose
# timestamp the test reads (TestCosignatureTimestamp).
ED25519_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
FORMATS_COSIGNATURE = ("ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7"
                       "S5gxEHWWOworDcFiEBYJXORmnFBOBA==")

# Signer keys of transparency-dev/formats, log/note_test.go (the log's own key).
LOG_SKEY = "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ"
LOG_VKEY = "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"
# The seed of the key PeterNeumann of golang/mod, sumdb/note/note_test.go, as a witness's.
WITNESS_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]

STAMP_S = 1_795_000_000


@pytest.fixture
def witness() -> CosignatureSigner:
    key = Ed25519PrivateKey.from_private_bytes(WITNESS_SEED)
    return CosignatureSigner("witness.example/w1", key)


@pytest.fixture
def signed_checkpoint() -> str:
    root = hashlib.sha256(b"root").digest()
    return sign_checkpoint(Checkpoint("Log", 42, root), Signer.from_skey(LOG_SKEY))


def test_the_signed_message_is_the_specs_example_byte_for_byte() -> None:
    assert cosigned_message(SOFA_TEXT, 1679315147) == SOFA_SIGNED_MESSAGE.encode()


def test_the_cosignature_signs_that_message_under_the_witness_key(
        witness: CosignatureSigner) -> None:
    signature = witness.cosign(SOFA_TEXT, 1679315147)
    assert signature.signature[:8] == (1679315147).to_bytes(8, "big")
    witness.private_key.public_key().verify(signature.signature[8:], SOFA_SIGNED_MESSAGE.encode())


@pytest.mark.parametrize(("vkey", "expected_id"), WITNESS_VKEYS)
def test_published_witness_keys_have_the_type_0x04_key_id(vkey: str, expected_id: int) -> None:
    verifier = CosignatureVerifier.from_vkey(vkey)
    assert verifier.key_id == expected_id
    key = VerifierKey.parse(vkey)
    assert key.signature_type == SIGNATURE_TYPE_COSIGNATURE_V1
    assert key_id(key.name, SIGNATURE_TYPE_COSIGNATURE_V1, key.public_key) == expected_id
    assert key_id(key.name, 0x01, key.public_key) != expected_id


def test_a_log_key_is_not_a_witness_key_nor_the_reverse() -> None:
    with pytest.raises(KeyMalformed, match="signature type 0x01, not 0x04"):
        CosignatureVerifier.from_vkey(ED25519_VKEY)
    with pytest.raises(KeyMalformed, match="signature type 0x04, not 0x01"):
        Verifier.from_vkey(WITNESS_VKEYS[0][0])


def test_the_timestamps_of_published_cosignatures() -> None:
    (line,) = split_note(SOFA_COSIGNED)[1][1:]
    assert (line.name, line.key_id) == ("witness.example.com/w1", 0x8D66CF3F)
    assert cosignature_timestamp(line.signature) == 1679315147
    assert cosignature_timestamp(base64.b64decode(FORMATS_COSIGNATURE)[4:]) == 1727964367


def test_a_signature_that_is_not_a_cosignature_has_no_timestamp() -> None:
    # TestCosignatureTimestamp's "wrong type of signature": a plain 64-byte Ed25519 signature.
    plain = base64.b64decode("eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnky"
                             "V+MUMLXpWs1hPb/W/4xkNQY=")
    with pytest.raises(CosignatureMalformed, match="holds 72 bytes, not 64"):
        cosignature_timestamp(plain[4:])
    with pytest.raises(CosignatureMalformed, match="beyond 2\\^63 - 1"):
        cosignature_timestamp(b"\x80" + bytes(71))


def test_the_specs_cosigned_checkpoint_keeps_unknown_witnesses_aside() -> None:
    with pytest.raises(UnverifiedNote):
        open_note(SOFA_COSIGNED, [CosignatureVerifier.from_vkey(WITNESS_VKEYS[0][0])])


def test_a_cosignature_added_to_the_signed_checkpoint_verifies_with_its_time(
        witness: CosignatureSigner, signed_checkpoint: str) -> None:
    text = split_note(signed_checkpoint)[0]
    cosigned = add_signatures(signed_checkpoint, [witness.cosign(text, STAMP_S)])
    verifier = CosignatureVerifier.from_vkey(witness.vkey())
    checkpoint, note = open_checkpoint(cosigned, "Log", Verifier.from_vkey(LOG_VKEY), [verifier])
    assert checkpoint.size == 42
    assert [s.name for s in note.signatures] == ["Log", "witness.example/w1"]
    assert verifier.timestamp_of(note.text, note.signatures[1]) == STAMP_S


def test_a_witness_answer_of_signature_lines_joins_the_note(
        witness: CosignatureSigner, signed_checkpoint: str) -> None:
    # c2sp.org/tlog-witness: add-checkpoint answers with signature lines only.
    text = split_note(signed_checkpoint)[0]
    answer = witness.cosign(text, STAMP_S).line() + witness.cosign(text, STAMP_S + 1).line()
    cosigned = add_signatures(signed_checkpoint, parse_signature_lines(answer))
    note = open_note(cosigned, [Verifier.from_vkey(LOG_VKEY),
                                CosignatureVerifier.from_vkey(witness.vkey())])
    assert cosignature_timestamp(note.signatures[1].signature) == STAMP_S + 1


def test_a_newer_cosignature_by_the_same_witness_replaces_the_older(
        witness: CosignatureSigner, signed_checkpoint: str) -> None:
    text = split_note(signed_checkpoint)[0]
    older = add_signatures(signed_checkpoint, [witness.cosign(text, STAMP_S)])
    newer = add_signatures(older, [witness.cosign(text, STAMP_S + 60)])
    assert newer.count("— witness.example/w1 ") == 1


def test_a_cosignature_with_an_altered_time_or_checkpoint_is_refused(
        witness: CosignatureSigner, signed_checkpoint: str) -> None:
    text = split_note(signed_checkpoint)[0]
    good = witness.cosign(text, STAMP_S)
    verifier = CosignatureVerifier.from_vkey(witness.vkey())
    shifted = type(good)(good.name, good.key_id,
                         (STAMP_S + 1).to_bytes(8, "big") + good.signature[8:])
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verifier.timestamp_of(text, shifted)
    with pytest.raises(SignatureInvalid):
        open_note(add_signatures(signed_checkpoint, [shifted]),
                  [Verifier.from_vkey(LOG_VKEY), verifier])
    with pytest.raises(SignatureInvalid):
        verifier.timestamp_of(text.replace("\n42\n", "\n43\n"), good)


def test_a_cosignature_is_not_a_plain_signature_by_the_same_key(
        witness: CosignatureSigner, signed_checkpoint: str) -> None:
    # The same Ed25519 key under type 0x01 has another key ID, so the line is an unknown key's.
    text = split_note(signed_checkpoint)[0]
    plain = Signer(witness.name, witness.private_key)
    assert plain.key_id != witness.key_id
    cosigned = add_signatures(signed_checkpoint, [witness.cosign(text, STAMP_S)])
    note = open_note(cosigned, [Verifier.from_vkey(LOG_VKEY), Verifier.from_vkey(plain.vkey())])
    assert [s.name for s in note.unverified] == ["witness.example/w1"]
    with pytest.raises(SignatureInvalid, match="is not the witness"):
        CosignatureVerifier.from_vkey(witness.vkey()).timestamp_of(text, note.signatures[0])


def test_a_witness_cosigns_checkpoints_only(witness: CosignatureSigner) -> None:
    with pytest.raises(CheckpointMalformed, match="a witness cosigns checkpoints only"):
        witness.cosign("if this is a valid checkpoint then I'll eat my hat\n", STAMP_S)
    with pytest.raises(CosignatureMalformed, match="out of range"):
        witness.cosign(SOFA_TEXT, -1)


def test_the_witness_key_file_round_trips_and_names_its_type(witness: CosignatureSigner) -> None:
    skey = witness.skey()
    assert skey.startswith(f"PRIVATE+KEY+witness.example/w1+{witness.key_id:08x}+B")
    assert CosignatureSigner.from_skey(skey).vkey() == witness.vkey()
    assert witness.vkey().startswith(f"witness.example/w1+{witness.key_id:08x}+B")
    with pytest.raises(KeyMalformed, match="type 0x04"):
        CosignatureSigner.from_skey(Signer(witness.name, witness.private_key).skey())
