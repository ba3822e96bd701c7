"""What a witness answers to `add-checkpoint` (C2SP tlog-witness), as pure functions of the
request body, the logs it trusts, the checkpoint it last cosigned and the time.

Two steps, so that the shell holds a log's lock only for the second: `authenticate` (the body is
well formed, the origin is known, the log's key signed the checkpoint) and `decide` (the
checkpoint extends, by the proof, the one last cosigned). Each refusal is a `Refusal` carrying
the status the spec prescribes and a sentence saying which check failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from ledger.contract.checkpoint import Checkpoint
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.merkle import EMPTY_ROOT, ProofInvalid, verify_consistency
from ledger.contract.note import Note, NoteSignature, open_note, split_note
from ledger.contract.note_keys import NoteError, Verifier
from ledger.contract.witness_protocol import (
    WitnessMessageMalformed,
    parse_add_checkpoint_request,
)

# Origins come from the request; a sentence about one shows this much of it.
ORIGIN_SHOWN_CHARACTERS_MAX = 100

# Origin (the log key's name) → the Ed25519 keys that log may sign with (more than one while a
# key is being rotated).
LogKeys = Mapping[str, tuple[Verifier, ...]]


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint a witness cosigned of one log: what it must never contradict."""

    size: int
    root_hash: bytes


# The spec: a witness that never cosigned a checkpoint of a log holds size zero for it.
NEVER_COSIGNED = Cosigned(0, EMPTY_ROOT)


class Refusal(Exception):
    """The witness does not cosign: `status` is the spec's answer, `reason` the check failed.
    `cosigned_size` (409 only) is what the body of the answer says the witness last cosigned."""

    def __init__(self, status: HTTPStatus, reason: str, origin: str | None = None,
                 cosigned_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.origin = origin
        self.cosigned_size = cosigned_size


@dataclass(frozen=True)
class Submission:
    """A request whose checkpoint a trusted key of its log signed."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint
    note_text: str
    log_signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class Cosigning:
    """The witness's yes: what it now holds of the log, its cosignature lines, and the note to
    keep (the checkpoint with the log's signatures and the cosignature; others' are dropped)."""

    cosigned: Cosigned
    signatures: tuple[NoteSignature, ...]
    note: str


def log_keys(vkeys: Iterable[str]) -> dict[str, tuple[Verifier, ...]]:
    """The logs to witness, from their verifier keys; a key given twice counts once. Raises
    KeyMalformed for a key that is not an Ed25519 vkey."""
    keys: dict[str, dict[tuple[str, int], Verifier]] = {}
    for text in vkeys:
        verifier = Verifier.from_vkey(text)
        keys.setdefault(verifier.name, {})[(verifier.name, verifier.key_id)] = verifier
    return {origin: tuple(by_id.values()) for origin, by_id in keys.items()}


def shown(origin: str) -> str:
    """An origin as a sentence may quote it: escaped, and cut short if the request made it long."""
    if len(origin) <= ORIGIN_SHOWN_CHARACTERS_MAX:
        return repr(origin)
    return repr(origin[:ORIGIN_SHOWN_CHARACTERS_MAX]) + "…"


def authenticate(body: bytes, logs: LogKeys) -> Submission:
    """The submission of a request body, if well formed (else 400), of a known origin (else
    404) and signed by a trusted key of that log (else 403)."""
    try:
        request = parse_add_checkpoint_request(body)
        note_text, _ = split_note(request.checkpoint_note)
        checkpoint = Checkpoint.parse(note_text)
    except (WitnessMessageMalformed, NoteError) as error:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"the request is malformed: {error}") from None
    origin = checkpoint.origin
    keys = logs.get(origin)
    if keys is None:
        raise Refusal(HTTPStatus.NOT_FOUND, f"the log {shown(origin)} is not one this witness "
                      f"knows", origin)
    try:
        note = open_note(request.checkpoint_note, keys)
    except NoteError as error:
        raise Refusal(HTTPStatus.FORBIDDEN, f"checkpoint of size {checkpoint.size} is not "
                      f"signed by the log's key: {error}", origin) from None
    return Submission(request.old_size, request.proof, checkpoint, note.text, note.signatures)


def decide(submission: Submission, last: Cosigned, signer: CosignatureSigner,
           now_s: int) -> Cosigning:
    """Cosign at `now_s` a checkpoint that extends `last`, the latest one cosigned of its log
    (NEVER_COSIGNED if none); else refuse as the spec says: 400 when the old size exceeds the
    checkpoint's, 409 when the old size is not `last`'s or the same size has another root (a
    fork), 422 when the consistency proof does not verify."""
    checkpoint, old = submission.checkpoint, submission.old_size
    origin, size, root = checkpoint.origin, checkpoint.size, checkpoint.root_hash
    if old > size:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"old size {old} is larger than the checkpoint's "
                      f"size {size}", origin)
    if old != last.size:
        raise Refusal(HTTPStatus.CONFLICT, f"old size {old} is not {last.size}, the size last "
                      f"cosigned (checkpoint size {size})", origin, last.size)
    # Size zero has one root only, so a different one there is a bad proof, not a fork.
    if size == last.size and size > 0 and root != last.root_hash:
        raise Refusal(HTTPStatus.CONFLICT, f"fork: checkpoint of size {size} has another root "
                      f"than the one cosigned at that size", origin, last.size)
    try:
        verify_consistency(last.size, size, last.root_hash, root, submission.proof)
    except ProofInvalid as error:
        raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, f"the consistency proof from size "
                      f"{last.size} to {size} does not verify: {error}", origin) from None
    signature = signer.cosign(submission.note_text, now_s)
    kept = Note(submission.note_text, (*submission.log_signatures, signature)).message()
    return Cosigning(Cosigned(size, root), (signature,), kept)
