"""The C2SP tlog-witness wire format, shared by the ledger and the witness: the spec's examples
read as the spec means them, and what one side writes the other reads back."""

from __future__ import annotations

import base64

import pytest

from ledger.contract.note import NoteSignature, split_note
from ledger.contract.witness_protocol import (
    PROOF_LINES_MAX,
    AddCheckpointRequest,
    WitnessMessageMalformed,
    add_checkpoint_request,
    cosignature_response,
    parse_add_checkpoint_request,
    parse_cosignature_response,
    parse_size_body,
    size_body,
)

# The example request and response bodies of C2SP/C2SP, tlog-witness.md.
SPEC_PROOF = ["PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
              "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
              "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
              "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0="]
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6"
    "267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n")
SPEC_REQUEST = ("old 20852014\n" + "".join(f"{line}\n" for line in SPEC_PROOF) + "\n"
                + SPEC_CHECKPOINT).encode()
SPEC_RESPONSE = (
    "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLr"
    "dk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+D"
    "lkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC"
    "3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n").encode()


def test_the_spec_example_request_reads_as_old_size_proof_and_checkpoint() -> None:
    request = parse_add_checkpoint_request(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert request.proof == tuple(base64.b64decode(line) for line in SPEC_PROOF)
    assert request.checkpoint_note == SPEC_CHECKPOINT
    assert split_note(request.checkpoint_note)[0].splitlines()[1] == "20852163"


def test_a_request_written_is_the_spec_example_byte_for_byte() -> None:
    proof = [base64.b64decode(line) for line in SPEC_PROOF]
    assert add_checkpoint_request(20852014, proof, SPEC_CHECKPOINT) == SPEC_REQUEST


def test_a_request_from_size_zero_has_no_proof_lines() -> None:
    body = add_checkpoint_request(0, [], SPEC_CHECKPOINT)
    assert body == b"old 0\n\n" + SPEC_CHECKPOINT.encode()
    assert parse_add_checkpoint_request(body) == AddCheckpointRequest(0, (), SPEC_CHECKPOINT)


@pytest.mark.parametrize("body", [
    b"old 0",
    b"old 0\n",
    b"old 00\n\nx",
    b"old 1e3\n\nx",
    b"old  3\n\nx",
    b"Old 3\n\nx",
    b"old 9223372036854775808\n\nx",
    b"old 3\nAAAA\n\nx",
    b"old 3\n@@@@\n\nx",
    b"old 3\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * (PROOF_LINES_MAX + 1) + b"\nx",
    b"old 3\n\n\xc3",
])
def test_a_request_not_laid_out_as_the_spec_says_is_malformed(body: bytes) -> None:
    with pytest.raises(WitnessMessageMalformed):
        parse_add_checkpoint_request(body)


def test_sixty_three_proof_lines_are_allowed() -> None:
    proof = [bytes(32)] * PROOF_LINES_MAX
    body = add_checkpoint_request(3, proof, SPEC_CHECKPOINT)
    assert parse_add_checkpoint_request(body).proof == tuple(proof)


def test_a_request_cannot_be_written_with_a_bad_size_or_proof() -> None:
    for old_size, proof in [(-1, []), (2**63, []), (3, [bytes(31)]),
                            (3, [bytes(32)] * (PROOF_LINES_MAX + 1))]:
        with pytest.raises(WitnessMessageMalformed):
            add_checkpoint_request(old_size, proof, SPEC_CHECKPOINT)


def test_the_size_of_a_conflict_answer_reads_back() -> None:
    assert size_body(20852014) == b"20852014\n"
    assert parse_size_body(b"20852014\n") == 20852014
    assert parse_size_body(size_body(0)) == 0


@pytest.mark.parametrize("body", [b"", b"12", b"012\n", b"12\n\n", b"-1\n", b"twelve\n",
                                  b"\xff\n"])
def test_a_conflict_answer_that_is_not_a_size_is_malformed(body: bytes) -> None:
    with pytest.raises(WitnessMessageMalformed):
        parse_size_body(body)


def test_the_spec_example_response_reads_as_three_cosignatures() -> None:
    signatures = parse_cosignature_response(SPEC_RESPONSE)
    assert [s.name for s in signatures] == ["witness.example/w1"] * 2 + ["witness.example/w2"]
    assert cosignature_response(signatures) == SPEC_RESPONSE


@pytest.mark.parametrize("body", [b"", b"\xff\n", b"hello\n",
                                  "— witness.example/w1 CMp+6LWB".encode()])
def test_a_response_that_is_not_signature_lines_is_malformed(body: bytes) -> None:
    with pytest.raises(WitnessMessageMalformed):
        parse_cosignature_response(body)


def test_a_response_has_at_least_one_cosignature() -> None:
    with pytest.raises(WitnessMessageMalformed):
        cosignature_response([])
    line = cosignature_response([NoteSignature("w", 1, bytes(72))])
    assert line.decode().startswith("— w ")
