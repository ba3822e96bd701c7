"""What the ledger's answers prove, checked with nothing but the ledger's log key (SPEC §14).

Pure functions over the answers of `GET /api/v1/platforms/{p}/events/{id}/proof` and
`GET /api/v1/ledger/proofs/consistency`: parse them strictly, open the checkpoint with the log's
verifier key, check the inclusion proof against the checkpoint's root, and decide whether a
checkpoint shown later extends the one the adapter kept.

What a verified proof shows: the ledger's log, as of a checkpoint its key signed, holds at
index `seq − 1` a leaf whose hash is `leaf_hash`. It does not by itself show that this leaf is
the event the adapter sent: the leaf is the hash of the ledger's entry document (JCS, SPEC §6),
which adds what the adapter cannot know (the ledger's `seq`, `recorded_at`). The entry document
holds the event's original body and its v1a signature verbatim (`body`, `webhook_signature`,
ledger/domain/entry.py), so whoever holds the entry (an auditor, `GET /ledger/entries`) binds
the leaf to the very bytes the adapter kept in its outbox: SHA-256(0x00 ‖ JCS(entry)) =
leaf_hash, and entry.body = the outbox's body. The adapter asks for nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.merkle import (
    HASH_SIZE_BYTES,
    ProofInvalid,
    verify_consistency,
    verify_inclusion,
)
from ledger.contract.note_keys import NoteError, Verifier

# A tree of at most 2^63 leaves has proofs of at most 63 hashes.
PROOF_HASHES_MAX = 64
# A checkpoint note with its signature lines; dozens of witness cosignatures still fit.
CHECKPOINT_NOTE_LENGTH_MAX = 64 * 1024
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class AnswerMalformed(ValueError):
    """The ledger's answer is not the document its API promises; the message says which part."""


class ProofRejected(ValueError):
    """A well-formed answer that does not verify: the message says which check failed."""


@dataclass(frozen=True)
class ProofAnswer:
    """An event's inclusion proof as the ledger answered it, not yet verified."""

    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed note: the log's signature line and witness cosignatures


@dataclass(frozen=True)
class VerifiedProof:
    answer: ProofAnswer
    checkpoint: Checkpoint


def _integer(document: dict[str, Any], name: str, least: int) -> int:
    value = document.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise AnswerMalformed(f"{name} is not an integer of at least {least}")
    return value


def _hash(text: object, name: str) -> bytes:
    if (not isinstance(text, str) or len(text) != 2 * HASH_SIZE_BYTES
            or not set(text) <= _HEX_DIGITS):
        raise AnswerMalformed(f"{name} is not {HASH_SIZE_BYTES} bytes in hexadecimal")
    return bytes.fromhex(text)


def _hashes(document: dict[str, Any], name: str) -> tuple[bytes, ...]:
    value = document.get(name)
    if not isinstance(value, list) or len(value) > PROOF_HASHES_MAX:
        raise AnswerMalformed(f"{name} is not a list of at most {PROOF_HASHES_MAX} hashes")
    return tuple(_hash(item, f"{name}[{position}]") for position, item in enumerate(value))


def parse_proof_answer(document: object) -> ProofAnswer:
    if not isinstance(document, dict):
        raise AnswerMalformed("the proof is not a JSON object")
    checkpoint = document.get("checkpoint")
    if not isinstance(checkpoint, str) or len(checkpoint) > CHECKPOINT_NOTE_LENGTH_MAX:
        raise AnswerMalformed("checkpoint is not the text of a signed note")
    return ProofAnswer(seq=_integer(document, "seq", 1),
                       leaf_index=_integer(document, "leaf_index", 0),
                       tree_size=_integer(document, "tree_size", 1),
                       leaf_hash=_hash(document.get("leaf_hash"), "leaf_hash"),
                       hashes=_hashes(document, "hashes"), checkpoint=checkpoint)


def parse_consistency_answer(document: object, first: int, second: int) -> tuple[bytes, ...]:
    """The hashes of a consistency proof between exactly the sizes asked for."""
    if not isinstance(document, dict):
        raise AnswerMalformed("the consistency proof is not a JSON object")
    if (document.get("first"), document.get("second")) != (first, second):
        raise AnswerMalformed(f"the consistency proof is not between sizes {first} and {second}")
    return _hashes(document, "hashes")


def verify_proof(answer: ProofAnswer, log_key: Verifier) -> VerifiedProof:
    """The proof, checked: the checkpoint is the log's (its origin is the key's name) and
    signed by its key, it is of the proof's tree size, the leaf sits at `seq − 1` (SPEC §14),
    and the proof leads from the leaf hash to the checkpoint's root. Raises ProofRejected."""
    try:
        checkpoint, _note = open_checkpoint(answer.checkpoint, log_key.name, log_key)
    except NoteError as error:
        raise ProofRejected(f"its checkpoint does not open with the log key ({error})") from None
    if checkpoint.size != answer.tree_size:
        raise ProofRejected(f"its tree size {answer.tree_size} is not the size "
                            f"{checkpoint.size} of its checkpoint")
    if answer.leaf_index != answer.seq - 1:
        raise ProofRejected(f"its leaf index {answer.leaf_index} is not seq {answer.seq} - 1")
    try:
        verify_inclusion(answer.leaf_index, answer.tree_size, answer.leaf_hash, answer.hashes,
                         checkpoint.root_hash)
    except ProofInvalid as error:
        raise ProofRejected(f"the inclusion proof does not verify ({error})") from None
    return VerifiedProof(answer, checkpoint)


class Inconsistent(Exception):
    """Two checkpoints signed by the log's key that no one append-only history explains."""


def consistency_sizes(kept: Checkpoint, shown: Checkpoint) -> tuple[int, int] | None:
    """The sizes (smaller, larger) of the consistency proof that would show the two
    checkpoints of one history; None when none is needed (one size, or an empty tree)."""
    smaller, larger = sorted((kept.size, shown.size))
    if smaller in (0, larger):
        return None
    return smaller, larger


def check_consistent(kept: Checkpoint, shown: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise Inconsistent unless the smaller tree is a prefix of the larger one by `proof`
    (two checkpoints of one size must have one root)."""
    older, newer = (kept, shown) if kept.size <= shown.size else (shown, kept)
    try:
        verify_consistency(older.size, newer.size, older.root_hash, newer.root_hash, proof)
    except ProofInvalid as error:
        raise Inconsistent(str(error)) from None
