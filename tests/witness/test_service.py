"""The witness with its state directory: answers as the spec says, keeps what it cosigned
before answering, and logs every refusal with its reason."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from pathlib import Path

import pytest

from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.note import add_signatures
from ledger.contract.witness_protocol import (
    SIZE_CONTENT_TYPE,
    parse_cosignature_response,
    parse_size_body,
)
from ledger.witness.decision import Cosigned, log_keys
from ledger.witness.service import PROBLEM_CONTENT_TYPE, Witness
from ledger.witness.state import LogStates
from tests.witness.support import NOW_S, ORIGIN, Log, new_log, new_witness_key, witness_verifier

WITNESS = new_witness_key()


@pytest.fixture
def log() -> Log:
    return new_log()


def witness_of(log: Log, directory: Path) -> Witness:
    logs = log_keys([log.vkey])
    return Witness(WITNESS, logs, LogStates(directory, logs), clock=lambda: NOW_S + 0.75)


def test_a_cosigned_checkpoint_is_kept_and_answered_with_its_cosignature(
        log: Log, tmp_path: Path) -> None:
    witness = witness_of(log, tmp_path)
    note = log.checkpoint(6)
    answer = witness.add_checkpoint(log.request(0, 6, note=note))
    assert answer.status == HTTPStatus.OK
    (signature,) = parse_cosignature_response(answer.body)
    verifier = witness_verifier(WITNESS)
    _, opened = open_checkpoint(add_signatures(note, [signature]), ORIGIN, log.verifier(),
                                [verifier])
    assert verifier.timestamp_of(opened.text, signature) == NOW_S
    assert witness.states.cosigned(ORIGIN) == Cosigned(6, log.root(6))


def test_a_conflict_is_answered_with_the_size_last_cosigned_as_text(
        log: Log, tmp_path: Path) -> None:
    witness = witness_of(log, tmp_path)
    witness.add_checkpoint(log.request(0, 6))
    answer = witness.add_checkpoint(log.request(0, 9))
    assert answer.status == HTTPStatus.CONFLICT
    assert answer.content_type == SIZE_CONTENT_TYPE
    assert parse_size_body(answer.body) == 6


def test_other_refusals_are_problem_documents_saying_why(log: Log, tmp_path: Path) -> None:
    witness = witness_of(log, tmp_path)
    answer = witness.add_checkpoint(new_log("example.org/stranger").request(0, 3))
    assert answer.status == HTTPStatus.NOT_FOUND
    assert answer.content_type == PROBLEM_CONTENT_TYPE
    problem = json.loads(answer.body)
    assert problem["status"] == 404 and "example.org/stranger" in problem["detail"]


def test_every_refusal_is_logged_as_a_warning_with_origin_sizes_and_the_check(
        log: Log, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    witness = witness_of(log, tmp_path)
    witness.add_checkpoint(log.request(0, 8))
    caplog.set_level(logging.INFO, logger="ledger.witness")
    proof = log.proof(8, 12)
    witness.add_checkpoint(log.request(8, 12, proof=proof[:-1]))
    witness.add_checkpoint(log.request(3, 12))
    witness.add_checkpoint(b"garbage")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert ORIGIN in warnings[0] and "422" in warnings[0] and "consistency proof" in warnings[0]
    assert "8" in warnings[0] and "12" in warnings[0]
    assert ORIGIN in warnings[1] and "409" in warnings[1] and "old size 3" in warnings[1]
    assert "400" in warnings[2] and "malformed" in warnings[2]
    assert witness.states.cosigned(ORIGIN).size == 8


def test_a_refused_request_leaves_the_state_as_it_was(log: Log, tmp_path: Path) -> None:
    witness = witness_of(log, tmp_path)
    witness.add_checkpoint(log.request(0, 8))
    fork = Log(log.signer, history="rewritten")
    assert witness.add_checkpoint(fork.request(8, 8)).status == HTTPStatus.CONFLICT
    assert witness.states.cosigned(ORIGIN) == Cosigned(8, log.root(8))
