"""C2SP signed notes and their keys, against the published vectors of Go's sumdb/note."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.note import (
    SIGNATURES_PER_NOTE_MAX,
    KeyAmbiguous,
    NoteMalformed,
    NoteSignature,
    SignatureInvalid,
    UnverifiedNote,
    add_signatures,
    open_note,
    parse_signature_lines,
    sign_note,
    split_note,
)
from ledger.contract.note_keys import (
    SIGNATURE_TYPE_ED25519,
    KeyMalformed,
    Signer,
    Verifier,
    VerifierKey,
    key_id,
)

# Vectors of golang/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign,
# TestOpen) and the package documentation in sumdb/note/note.go.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgK"
             "vqfqdngotpRZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOT"
             "GwnWLox33WWd1RvMc+QQ=\n")

# Vectors of transparency-dev/formats, log/note_test.go: signer keys and their verifier keys.
FORMATS_KEY_PAIRS = [
    ("PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
     "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"),
    ("PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
     "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH"),
    ("PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
     "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj"),
    ("PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
     "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots"),
]

# The example of C2SP/C2SP, signed-note.md: a text with an empty line of its own; its key is
# not published, so it can only be parsed.
QUASIMODO_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouF"
    "SQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n")


@pytest.fixture
def peter() -> Verifier:
    return Verifier.from_vkey(PETER_VKEY)


@pytest.fixture
def enoch() -> Verifier:
    return Verifier.from_vkey(ENOCH_VKEY)


def test_the_key_id_is_the_first_four_bytes_of_sha256_of_name_type_and_key() -> None:
    public_key = base64.b64decode(PETER_VKEY.split("+")[2])[1:]
    assert key_id("PeterNeumann", SIGNATURE_TYPE_ED25519, public_key) == 0xC74F20A3
    assert Verifier.from_vkey(ENOCH_VKEY).key_id == 0xAF0CFE78


def test_a_signer_key_gives_the_published_verifier_key() -> None:
    assert Signer.from_skey(PETER_SKEY).vkey() == PETER_VKEY
    assert Signer.from_skey(PETER_SKEY).skey() == PETER_SKEY


@pytest.mark.parametrize(("skey", "vkey"), FORMATS_KEY_PAIRS)
def test_each_published_signer_key_matches_its_verifier_key(skey: str, vkey: str) -> None:
    assert Signer.from_skey(skey).vkey() == vkey
    assert VerifierKey.parse(vkey).text() == vkey


def test_signing_a_known_text_with_a_known_seed_gives_the_published_note_byte_for_byte() -> None:
    assert sign_note(TEXT, [Signer.from_skey(PETER_SKEY)]) == TEXT + "\n" + PETER_SIG


def test_a_note_signed_by_two_keys_verifies_under_both(peter: Verifier, enoch: Verifier) -> None:
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [
        ("PeterNeumann", 0xC74F20A3), ("EnochRoot", 0xAF0CFE78)]
    assert note.unverified == ()


def test_a_signature_by_an_unknown_key_is_kept_aside_not_refused(peter: Verifier) -> None:
    note = open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [peter])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    assert note.message() == TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_a_note_signed_by_none_of_the_trusted_keys_is_refused(enoch: Verifier) -> None:
    with pytest.raises(UnverifiedNote, match="none of the trusted keys"):
        open_note(TEXT + "\n" + PETER_SIG, [enoch])
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_repeated_signatures_count_once(peter: Verifier) -> None:
    # TestOpen's "duplicated verified and unverified signatures".
    broken_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    message = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + broken_enoch
    note = open_note(message, [peter])
    assert len(note.signatures) == 1
    assert len(note.unverified) == 2


def test_a_known_keys_signature_that_does_not_verify_is_refused(peter: Verifier) -> None:
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureInvalid, match="PeterNeumann\\+c74f20a3 does not verify"):
        open_note(TEXT + "\n" + broken, [peter])


def test_a_tampered_text_is_refused(peter: Verifier) -> None:
    with pytest.raises(SignatureInvalid):
        open_note(TEXT.replace("answer", "Answer") + "\n" + PETER_SIG, [peter])


def test_a_signature_with_another_key_id_is_an_unknown_key(peter: Verifier) -> None:
    wrong_id = PETER_SIG.replace("x08g", "xxxx")
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + wrong_id, [peter])
    note = open_note(TEXT + "\n" + PETER_SIG + wrong_id, [peter])
    assert note.unverified[0].key_id != 0xC74F20A3


def test_a_signature_under_another_name_is_an_unknown_key(peter: Verifier) -> None:
    misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + misnamed, [peter])


def test_two_verifiers_for_one_key_are_refused_only_when_that_key_signed(
        peter: Verifier, enoch: Verifier) -> None:
    with pytest.raises(KeyAmbiguous, match="EnochRoot\\+af0cfe78"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch]).signatures


@pytest.mark.parametrize("message", [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgK"
    "vqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + "— PeterNeumann x08g\n",
    TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
], ids=["no signatures", "blank line only", "no final newline", "control character", "bad name",
        "unexpected line", "signature too short", "carriage returns"])
def test_malformed_notes_are_refused(peter: Verifier, message: str) -> None:
    with pytest.raises(NoteMalformed):
        open_note(message, [peter])


def test_a_note_that_is_not_utf8_is_refused(peter: Verifier) -> None:
    with pytest.raises(NoteMalformed, match="UTF-8"):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [peter])


def test_at_most_a_hundred_signatures(peter: Verifier) -> None:
    assert open_note(TEXT + "\n" + PETER_SIG * SIGNATURES_PER_NOTE_MAX, [peter]).signatures
    for verifiers in ([peter], []):
        with pytest.raises(NoteMalformed, match="more than 100 signatures"):
            open_note(TEXT + "\n" + PETER_SIG * (SIGNATURES_PER_NOTE_MAX + 1), verifiers)


def test_the_text_ends_at_the_last_blank_line() -> None:
    text, signatures = split_note(QUASIMODO_NOTE)
    assert text.endswith("\n\ned è subito sera.\n")
    assert [(s.name, s.key_id) for s in signatures] == [
        ("quasimodo.example/salvatore", 0x367BA04B)]
    assert len(signatures[0].signature) == 64
    with pytest.raises(UnverifiedNote):
        open_note(QUASIMODO_NOTE, [])


def test_a_text_without_its_final_newline_cannot_be_signed() -> None:
    with pytest.raises(NoteMalformed, match="end in a newline"):
        sign_note(TEXT[:-1], [Signer.from_skey(PETER_SKEY)])
    with pytest.raises(NoteMalformed, match="control character"):
        sign_note("tab\there\n", [Signer.from_skey(PETER_SKEY)])


@pytest.mark.parametrize("name", ["", "two words", "a+b", "tab\tname", "nbsp\u00a0name"])
def test_key_names_are_non_empty_without_spaces_or_plus(name: str) -> None:
    with pytest.raises(KeyMalformed):
        Signer(name, Ed25519PrivateKey.generate())


def test_every_mangling_of_a_verifier_key_is_refused() -> None:
    # TestNewVerifier: every proper substring and every byte incremented.
    manglings = {PETER_VKEY[i:j] for i in range(len(PETER_VKEY) + 1)
                 for j in range(i + 1, len(PETER_VKEY) + 1)} - {PETER_VKEY}
    manglings |= {PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1:]
                  for i in range(len(PETER_VKEY))}
    # A key of the wrong length and a key of an unknown type, each with its key ID adjusted.
    manglings |= {"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                  "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"}
    for mangled in manglings:
        with pytest.raises(KeyMalformed):
            Verifier.from_vkey(mangled)


def test_every_mangling_of_a_signer_key_is_refused() -> None:
    # TestNewSigner: every proper substring and every byte incremented.
    manglings = {PETER_SKEY[i:j] for i in range(len(PETER_SKEY) + 1)
                 for j in range(i + 1, len(PETER_SKEY) + 1)} - {PETER_SKEY}
    manglings |= {PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1:]
                  for i in range(len(PETER_SKEY))}
    for mangled in manglings:
        with pytest.raises(KeyMalformed):
            Signer.from_skey(mangled)


def test_the_verifier_key_error_names_what_failed() -> None:
    with pytest.raises(KeyMalformed, match="key ID c74f20a4 is not the one of its key"):
        Verifier.from_vkey(PETER_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(KeyMalformed, match="not 8 hexadecimal digits"):
        Verifier.from_vkey(PETER_VKEY.replace("c74f20a3", "0xc74f20"))


def test_added_signatures_replace_an_older_one_by_the_same_key(
        peter: Verifier, enoch: Verifier) -> None:
    signed = TEXT + "\n" + PETER_SIG
    (enoch_signature,) = parse_signature_lines(ENOCH_SIG)
    both = add_signatures(signed, [enoch_signature])
    assert both == TEXT + "\n" + PETER_SIG + ENOCH_SIG
    stale = NoteSignature("EnochRoot", 0xAF0CFE78, b"\x00" * 64)
    assert add_signatures(add_signatures(signed, [stale]), [enoch_signature]) == both
    assert len(open_note(both, [peter, enoch]).signatures) == 2
