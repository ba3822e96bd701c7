"""C2SP tlog checkpoints: the note text, the log's signature, and published signed checkpoints."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.contract.checkpoint import (
    TREE_SIZE_MAX,
    Checkpoint,
    CheckpointMalformed,
    LogSignatureMissing,
    OriginMismatch,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.contract.note import SignatureInvalid, UnverifiedNote, open_note, sign_note
from ledger.contract.note_keys import SIGNATURE_TYPE_ED25519, Signer, Verifier, VerifierKey, key_id

# The example of C2SP/C2SP, tlog-checkpoint.md (its key is not published).
SOFA_TEXT = ("example.com/behind-the-sofa\n"
             "20852163\n"
             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")

# A real checkpoint of sum.golang.org and its verifier key, from transparency-dev/formats,
# log/note_test.go (TestSumDBNoteParsing and BenchmarkParse, with the signatures of three more
# keys over the same text).
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = ("go.sum database tree\n"
              "6476701\n"
              "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
              "\n"
              "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4"
              "nPRYfvimWEPWL+o3GeoWwOoAw=\n")
SUMDB_OTHER_VKEYS = [
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
]
SUMDB_OTHER_SIGNATURES = (
    "— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvA"
    "naepM6Y+8ww=\n"
    "— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1"
    "mDR6t3/9rQw=\n"
    "— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCd"
    "cpR8SVSoqAU=\n")

# A sigsum log's checkpoint as a witness receives it, with the log's public key, from
# FiloSottile/torchwood, cmd/litewitness/testdata/multi-cosigs-ed25519.txt; the origin is
# sigsum.org/v1/tree/ and the hex SHA-256 of that key.
SIGSUM_PUBLIC_KEY = bytes.fromhex(
    "52c05edad1bf5feffa81354faae59a655d9a9a1a793ed2f62c39c26c0be2aecd")
SIGSUM_ORIGIN = ("sigsum.org/v1/tree/"
                 "985ea163f5af026723561354f51f2ebcdcf2af809ce254ccfb64aa9aadd80f90")
SIGSUM_NOTE = (f"{SIGSUM_ORIGIN}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
               f"— {SIGSUM_ORIGIN} 7BKT0gOfNZ1J0So9unY3BZtm2YkPIoNYM/dce0Z2avJDs8dxN6ts9bOSwwrVrb"
               "jm6P9K3ZxpK6jJngOG6YvGGzV/lwo=\n")

# Three checkpoints of another sigsum log, signed by the key below, from FiloSottile/torchwood,
# internal/witness/witness_test.go (TestRace): (size, root hash, signature line's base64).
SIGSUM_RACE_PUBLIC_KEY = bytes.fromhex(
    "ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")
SIGSUM_RACE_ORIGIN = ("sigsum.org/v1/tree/"
                      "4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562")
SIGSUM_RACE_CHECKPOINTS = [
    (1, "KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
     "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY="),
    (3, "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=",
     "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go="),
    (5, "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=",
     "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww="),
]

# Signer keys of transparency-dev/formats, log/note_test.go.
LOG_SKEY = "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ"
LOG_VKEY = "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"
KNOWN_SKEY = "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci"
KNOWN_VKEY = "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH"

ROOT = hashlib.sha256(b"root").digest()
ROOT_BASE64 = base64.b64encode(ROOT).decode()


def test_the_specs_example_checkpoint_parses_and_prints_the_same() -> None:
    checkpoint = Checkpoint.parse(SOFA_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.text() == SOFA_TEXT


def test_extension_lines_are_kept_in_order() -> None:
    text = f"example.com/log\n10\n{ROOT_BASE64}\nextra-line-1\nextra-line-2\n"
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.extensions == ("extra-line-1", "extra-line-2")
    assert checkpoint.text() == text


def test_an_empty_tree_has_size_zero() -> None:
    empty = hashlib.sha256(b"").digest()
    assert Checkpoint.parse(f"log\n0\n{base64.b64encode(empty).decode()}\n").size == 0


def test_the_real_sum_golang_org_checkpoint_verifies_and_parses() -> None:
    checkpoint, note = open_checkpoint(SUMDB_NOTE, "go.sum database tree",
                                       Verifier.from_vkey(SUMDB_VKEY))
    assert checkpoint.size == 6476701
    assert base64.b64encode(checkpoint.root_hash).decode() == (
        "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    assert [s.name for s in note.signatures] == ["sum.golang.org"]


def test_more_signatures_over_a_real_checkpoint_verify_beside_the_logs() -> None:
    others = [Verifier.from_vkey(vkey) for vkey in SUMDB_OTHER_VKEYS]
    _, note = open_checkpoint(SUMDB_NOTE + SUMDB_OTHER_SIGNATURES, "go.sum database tree",
                              Verifier.from_vkey(SUMDB_VKEY), others)
    assert [s.name for s in note.signatures] == ["sum.golang.org", "monkeys", "bananas",
                                                  "witness"]


def test_a_sigsum_log_checkpoint_verifies_under_a_vkey_made_from_its_public_key() -> None:
    assert SIGSUM_ORIGIN.endswith(hashlib.sha256(SIGSUM_PUBLIC_KEY).hexdigest())
    identifier = key_id(SIGSUM_ORIGIN, SIGNATURE_TYPE_ED25519, SIGSUM_PUBLIC_KEY)
    vkey = VerifierKey(SIGSUM_ORIGIN, identifier, SIGNATURE_TYPE_ED25519, SIGSUM_PUBLIC_KEY).text()
    checkpoint, _ = open_checkpoint(SIGSUM_NOTE, SIGSUM_ORIGIN, Verifier.from_vkey(vkey))
    assert (checkpoint.size, checkpoint.root_hash) == (1, b"*" + bytes(31))


@pytest.mark.parametrize(("size", "root", "signature"), SIGSUM_RACE_CHECKPOINTS)
def test_published_checkpoints_of_a_growing_log_verify(size: int, root: str,
                                                       signature: str) -> None:
    public_key = SIGSUM_RACE_PUBLIC_KEY
    identifier = key_id(SIGSUM_RACE_ORIGIN, SIGNATURE_TYPE_ED25519, public_key)
    verifier = Verifier.from_vkey(
        VerifierKey(SIGSUM_RACE_ORIGIN, identifier, SIGNATURE_TYPE_ED25519, public_key).text())
    message = f"{SIGSUM_RACE_ORIGIN}\n{size}\n{root}\n\n— {SIGSUM_RACE_ORIGIN} {signature}\n"
    checkpoint, _ = open_checkpoint(message, SIGSUM_RACE_ORIGIN, verifier)
    assert checkpoint.size == size
    with pytest.raises(SignatureInvalid):
        open_checkpoint(message.replace(f"\n{size}\n", f"\n{size + 1}\n"), SIGSUM_RACE_ORIGIN,
                        verifier)


def test_a_checkpoint_of_another_log_is_refused() -> None:
    with pytest.raises(OriginMismatch, match="not of 'Go rocks'"):
        open_checkpoint(SUMDB_NOTE, "Go rocks", Verifier.from_vkey(SUMDB_VKEY))


def test_the_ledger_signs_under_its_origin_and_the_note_verifies() -> None:
    checkpoint = Checkpoint("Log", 42, ROOT)
    signed = sign_checkpoint(checkpoint, Signer.from_skey(LOG_SKEY))
    assert signed.startswith(f"Log\n42\n{ROOT_BASE64}\n\n— Log ")
    assert open_checkpoint(signed, "Log", Verifier.from_vkey(LOG_VKEY))[0] == checkpoint
    with pytest.raises(OriginMismatch):
        sign_checkpoint(Checkpoint("Other", 42, ROOT), Signer.from_skey(LOG_SKEY))


def test_a_checkpoint_signed_only_by_another_trusted_key_is_refused() -> None:
    # transparency-dev/formats' "just known": a witness's signature without the log's.
    signed = sign_note(Checkpoint("Log", 42, ROOT).text(), [Signer.from_skey(KNOWN_SKEY)])
    with pytest.raises(LogSignatureMissing, match="log key Log"):
        open_checkpoint(signed, "Log", Verifier.from_vkey(LOG_VKEY),
                        [Verifier.from_vkey(KNOWN_VKEY)])
    with pytest.raises(UnverifiedNote):
        open_checkpoint(signed, "Log", Verifier.from_vkey(LOG_VKEY))


def test_a_tampered_checkpoint_is_refused() -> None:
    signed = sign_checkpoint(Checkpoint("Log", 42, ROOT), Signer.from_skey(LOG_SKEY))
    with pytest.raises(SignatureInvalid):
        open_checkpoint(signed.replace("\n42\n", "\n43\n"), "Log", Verifier.from_vkey(LOG_VKEY))


def test_a_signed_note_that_is_not_a_checkpoint_is_refused() -> None:
    # transparency-dev/formats' "bad body good sigs".
    signed = sign_note("if this is a valid checkpoint then I'll eat my hat\n",
                       [Signer.from_skey(LOG_SKEY)])
    assert open_note(signed, [Verifier.from_vkey(LOG_VKEY)]).signatures
    with pytest.raises(CheckpointMalformed):
        open_checkpoint(signed, "Log", Verifier.from_vkey(LOG_VKEY))


@pytest.mark.parametrize(("text", "reason"), [
    # The invalid cases of transparency-dev/formats, log/checkpoint_test.go.
    ("Head\n9944\n", "an origin, a size and a root hash"),
    (f"\n9944\n{ROOT_BASE64}\n", "origin must be one non-empty line"),
    ("Log\n123\nYmFuYW5hcw==", "end in a newline"),
    (f"Log\nbananas\n{ROOT_BASE64}\n", "not a decimal number"),
    (f"Log\n-34\n{ROOT_BASE64}\n", "not a decimal number"),
    (f"Log\n3438945738945739845734895735\n{ROOT_BASE64}\n", "larger than"),
    ("Log\n123\nThisIsn'tBase64\n", "not base64"),
    ("Log\n123\nYmFuYW5hcw==\n", "holds 7 bytes, not 32"),
    (f"Log\n9944\n{ROOT_BASE64}\n\n\n\n", "extension line must be one non-empty line"),
    # Strictness of c2sp.org/tlog-checkpoint: no leading zero, 2^63 - 1 at most, canonical
    # base64, a 32-byte root.
    (f"Log\n042\n{ROOT_BASE64}\n", "without leading zeros"),
    (f"Log\n00\n{ROOT_BASE64}\n", "without leading zeros"),
    (f"Log\n+42\n{ROOT_BASE64}\n", "not a decimal number"),
    (f"Log\n４２\n{ROOT_BASE64}\n", "not a decimal number"),
    (f"Log\n{TREE_SIZE_MAX + 1}\n{ROOT_BASE64}\n", "larger than"),
    (f"Log\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "holds 31 bytes, not 32"),
    (f"Log\n42\n{ROOT_BASE64[:-2]}B=\n", "canonical base64"),
    (f"Log\n42\n{ROOT_BASE64[:-1]}\n", "not base64"),
])
def test_malformed_checkpoints_are_refused(text: str, reason: str) -> None:
    with pytest.raises(CheckpointMalformed, match=reason):
        Checkpoint.parse(text)


def test_a_checkpoint_cannot_be_built_with_a_bad_size_or_root() -> None:
    with pytest.raises(CheckpointMalformed):
        Checkpoint("Log", -1, ROOT)
    with pytest.raises(CheckpointMalformed):
        Checkpoint("Log", TREE_SIZE_MAX + 1, ROOT)
    with pytest.raises(CheckpointMalformed):
        Checkpoint("Log", 1, ROOT + b"\x00")
    with pytest.raises(CheckpointMalformed):
        Checkpoint("two\nlines", 1, ROOT)
