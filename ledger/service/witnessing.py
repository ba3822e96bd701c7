"""Asking the witnesses to cosign (SPEC §14, C2SP tlog-witness): what the ledger sends a witness
and what the witness's answer means. The HTTP is `ledger.infra.witness_client`'s, the threads
that ask are `ledger.worker.witness_asking`'s.

Only a log's latest checkpoint is ever asked about: a witness that was away is asked about the
newest one, with the consistency proof from the largest checkpoint it cosigned (from 0, with no
proof, when none). A witness that says it holds another size (409) is followed once if that
size is one the ledger signed; a size the ledger never signed means the witness has seen a
history the ledger does not hold, and that is said, never argued with in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.contract.cosignature import CosignatureVerifier
from ledger.contract.note import NoteSignature, split_note
from ledger.contract.note_keys import NoteError
from ledger.contract.witness_protocol import (
    SIZE_CONTENT_TYPE,
    WitnessMessageMalformed,
    add_checkpoint_request,
    parse_cosignature_response,
    parse_size_body,
)
from ledger.infra.db.models import CheckpointRow, Witness, WitnessCosignature
from ledger.infra.witness_client import WitnessAnswer
from ledger.service.checkpoints import checkpoint_of_size, latest_checkpoint
from ledger.service.proofs import consistency
from ledger.service.witnesses import list_witnesses, record_cosignature

# Enough of a refusal's first line to say why, not so much that a witness fills the log.
REASON_CHARS_MAX = 200


@dataclass(frozen=True)
class WitnessTarget:
    """A registered witness as its asking thread holds it (no database row across threads)."""

    name: str
    url: str
    verifier: CosignatureVerifier

    @classmethod
    def of(cls, row: Witness) -> WitnessTarget:
        return cls(row.name, row.url, CosignatureVerifier.from_vkey(row.vkey))


def witness_targets(session: Session) -> list[WitnessTarget]:
    return [WitnessTarget.of(row) for row in list_witnesses(session)]


@dataclass(frozen=True)
class CosignRequest:
    """Cosign the checkpoint `checkpoint_id` (of `size`, its ledger-signed `note`), consistent by
    `proof` with the checkpoint of `old_size` the witness is believed to hold."""

    log: str
    checkpoint_id: int
    size: int
    note: str
    old_size: int
    proof: tuple[bytes, ...]

    def body(self) -> bytes:
        return add_checkpoint_request(self.old_size, self.proof, self.note)

    @property
    def checkpoint_text(self) -> str:
        """What a cosignature signs: the checkpoint's note text, without the signatures."""
        return split_note(self.note)[0]


def last_cosigned_size(session: Session, log: str, witness: str) -> int:
    """The size of the largest checkpoint of `log` the witness cosigned; 0 when none."""
    size = session.scalar(
        select(func.max(CheckpointRow.size))
        .join(WitnessCosignature, WitnessCosignature.checkpoint_id == CheckpointRow.id)
        .where(CheckpointRow.log == log, WitnessCosignature.witness == witness))
    return size or 0


def _cosigned(session: Session, checkpoint_id: int, witness: str) -> bool:
    return session.scalar(select(WitnessCosignature.id).where(
        WitnessCosignature.checkpoint_id == checkpoint_id,
        WitnessCosignature.witness == witness)) is not None


def _request(session: Session, checkpoint: CheckpointRow, old_size: int) -> CosignRequest:
    proof = consistency(session, checkpoint.log, old_size, checkpoint.size)
    return CosignRequest(checkpoint.log, checkpoint.id, checkpoint.size, checkpoint.note,
                         old_size, tuple(proof))


def request_for_latest(session: Session, log: str, witness: str) -> CosignRequest | None:
    """What to ask the witness about `log`: its latest checkpoint from the last size the witness
    cosigned; None when there is no checkpoint yet or the witness cosigned the latest."""
    latest = latest_checkpoint(session, log)
    if latest is None or _cosigned(session, latest.id, witness):
        return None
    return _request(session, latest, last_cosigned_size(session, log, witness))


@dataclass(frozen=True)
class Unfollowable:
    """A witness's size (409) not to ask again from: `fork` when it says the witness has seen a
    history the ledger did not sign; otherwise there is nothing to ask it now."""

    reason: str
    fork: bool


def follow_witness(session: Session, asked: CosignRequest,
                   witness_size: int) -> CosignRequest | Unfollowable:
    """The same checkpoint asked again from the size a witness's 409 says it holds, when that
    size is 0 or one the ledger signed, up to the checkpoint's."""
    if witness_size == asked.old_size:
        # It holds the very size it was sent, so the spec's only 409 left is the same size
        # with another root: two checkpoints of one size under the ledger's key.
        return Unfollowable(
            f"it holds a checkpoint of size {witness_size} whose root is not the one this "
            "ledger signed: it has seen a history we did not sign (a fork, or a database "
            "restored from an older backup and signed again)", fork=True)
    if witness_size == 0:
        return CosignRequest(asked.log, asked.checkpoint_id, asked.size, asked.note, 0, ())
    holds = checkpoint_of_size(session, asked.log, witness_size)
    if holds is None:
        return Unfollowable(
            f"it cosigned size {witness_size}, which this ledger never signed: it has seen a "
            "history we did not sign (a fork, or a database restored from an older backup)",
            fork=True)
    if witness_size > asked.size:
        return Unfollowable(f"it already cosigned the newer checkpoint of size {witness_size}",
                            fork=False)
    checkpoint = session.get_one(CheckpointRow, asked.checkpoint_id)
    return _request(session, checkpoint, witness_size)


@dataclass(frozen=True)
class Cosigned:
    """A 200 with at least one cosignature by the witness's key that verifies, with its time."""

    cosignatures: tuple[tuple[NoteSignature, datetime], ...]


@dataclass(frozen=True)
class WitnessHolds:
    """A 409: the witness last cosigned the checkpoint of `size`."""

    size: int


@dataclass(frozen=True)
class NotCosigned:
    """Any other answer, or a 200 or 409 not as the spec lays it out; `reason` says which."""

    reason: str


Verdict = Cosigned | WitnessHolds | NotCosigned


def read_answer(answer: WitnessAnswer, witness: WitnessTarget,
                asked: CosignRequest) -> Verdict:
    """What a witness's answer to `asked` means."""
    if answer.status == HTTPStatus.OK:
        return _read_cosignatures(answer.body, witness.verifier, asked.checkpoint_text)
    if answer.status == HTTPStatus.CONFLICT:
        if answer.content_type != SIZE_CONTENT_TYPE:
            return NotCosigned(f"answered 409 as {answer.content_type or 'no media type'}, not "
                               f"{SIZE_CONTENT_TYPE}: {first_line(answer.body)}")
        try:
            return WitnessHolds(parse_size_body(answer.body))
        except WitnessMessageMalformed as error:
            return NotCosigned(f"answered 409 without a size: {error}")
    return NotCosigned(f"answered {_status(answer.status)}: {first_line(answer.body)}")


def _read_cosignatures(body: bytes, verifier: CosignatureVerifier,
                       checkpoint_text: str) -> Verdict:
    try:
        signatures = parse_cosignature_response(body)
    except WitnessMessageMalformed as error:
        return NotCosigned(f"answered 200 without cosignature lines: {error}")
    verified: list[tuple[NoteSignature, datetime]] = []
    refused: list[str] = []
    for signature in signatures:
        # The spec has a log ignore cosignatures by keys it does not know (a witness may hold
        # several); only the key registered for this witness counts.
        if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
            continue
        try:
            timestamp_s = verifier.timestamp_of(checkpoint_text, signature)
        except NoteError as error:
            refused.append(str(error))
            continue
        try:
            verified.append((signature, datetime.fromtimestamp(timestamp_s, UTC)))
        except (OverflowError, OSError, ValueError):
            refused.append(f"its cosignature's time {timestamp_s} is beyond any date")
    if verified:
        return Cosigned(tuple(verified))
    if refused:
        return NotCosigned(f"answered 200 with a cosignature that does not verify: {refused[0]}")
    return NotCosigned(f"answered 200 with no cosignature by its key {verifier.name}"
                       f"+{verifier.key_id:08x}")


def record_cosigned(session: Session, asked: CosignRequest, witness: str, verdict: Cosigned,
                    now: datetime) -> bool:
    """Keep the witness's (first verified) cosignature of the checkpoint asked about; False when
    one is kept already (another asking process got there first)."""
    if _cosigned(session, asked.checkpoint_id, witness):
        return False
    signature, cosigned_at = verdict.cosignatures[0]
    record_cosignature(session, session.get_one(CheckpointRow, asked.checkpoint_id),
                       session.get_one(Witness, witness), signature, cosigned_at, now)
    return True


def first_line(body: bytes) -> str:
    """The first line of a body, shortened, every unprintable character shown as `?` (it goes
    into the log as the witness wrote it)."""
    line = body.split(b"\n", 1)[0][:REASON_CHARS_MAX].decode("utf-8", errors="replace")
    shown = "".join(character if character.isprintable() else "?" for character in line)
    return shown or "(empty body)"


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)
