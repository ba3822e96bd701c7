"""The wire format of C2SP tlog-witness (c2sp.org/tlog-witness): what a log sends a witness in
`POST <prefix>/add-checkpoint` and what it gets back. Both sides use this one codec: the ledger
asking its witnesses to cosign, and `pointsledger witness serve` answering.

The request body is an `old <size>` line, zero to 63 consistency proof lines (one base64 hash
each), an empty line, then the signed checkpoint note. A 200 answer is one or more cosignature
lines; a 409 answer is the size the witness last cosigned, in decimal and a newline, of Content-
Type `text/x.tlog.size`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.contract.checkpoint import HASH_LENGTH_BYTES, TREE_SIZE_MAX
from ledger.contract.note import NoteSignature, parse_signature_lines
from ledger.contract.note_keys import NoteError, decode_base64, encode_base64

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
OLD_SIZE_PREFIX = "old "
# The spec's bound: a client MUST NOT send more (a proof in a tree of 2^63 leaves needs fewer).
PROOF_LINES_MAX = 63
_DIGITS = frozenset("0123456789")


class WitnessMessageMalformed(ValueError):
    """A request or answer of the witness protocol is not laid out as the spec says."""


@dataclass(frozen=True)
class AddCheckpointRequest:
    """What a log asks a witness: cosign `checkpoint_note`, consistent by `proof` with the
    checkpoint of `old_size` the witness last cosigned."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str


def _parse_size(text: str, what: str) -> int:
    if not text or not set(text) <= _DIGITS or (text[0] == "0" and text != "0"):
        raise WitnessMessageMalformed(f"{what} {text!r} is not a decimal without leading zeros")
    if len(text) > len(str(TREE_SIZE_MAX)) or int(text) > TREE_SIZE_MAX:
        raise WitnessMessageMalformed(f"{what} {text} is larger than {TREE_SIZE_MAX}")
    return int(text)


def _check_size(size: int, what: str) -> None:
    if not 0 <= size <= TREE_SIZE_MAX:
        raise WitnessMessageMalformed(f"{what} {size} is out of range")


def _parse_hash(line: str, position: int) -> bytes:
    hash_ = decode_base64(line)
    if hash_ is None or len(hash_) != HASH_LENGTH_BYTES:
        raise WitnessMessageMalformed(
            f"consistency proof line #{position} is not base64 of a {HASH_LENGTH_BYTES}-byte hash")
    return hash_


def add_checkpoint_request(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> bytes:
    """The body of `POST /add-checkpoint`: the old size, the proof, an empty line, the note."""
    _check_size(old_size, "the old size")
    if len(proof) > PROOF_LINES_MAX:
        raise WitnessMessageMalformed(f"a consistency proof has at most {PROOF_LINES_MAX} hashes")
    if any(len(hash_) != HASH_LENGTH_BYTES for hash_ in proof):
        raise WitnessMessageMalformed(f"a consistency proof hash holds {HASH_LENGTH_BYTES} bytes")
    lines = "".join(f"{encode_base64(hash_)}\n" for hash_ in proof)
    return f"{OLD_SIZE_PREFIX}{old_size}\n{lines}\n{checkpoint_note}".encode()


def parse_add_checkpoint_request(body: bytes) -> AddCheckpointRequest:
    """The old size, proof and checkpoint note of a request body, or WitnessMessageMalformed.
    The note is neither parsed nor verified here: that is the witness's own work."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise WitnessMessageMalformed("the request body is not UTF-8") from None
    # The old size and proof lines are never empty, so the first empty line ends them.
    header, separator, note = text.partition("\n\n")
    if not separator:
        raise WitnessMessageMalformed("the request has no empty line before the checkpoint")
    old_line, *proof_lines = header.split("\n")
    if not old_line.startswith(OLD_SIZE_PREFIX):
        raise WitnessMessageMalformed(f"the request's first line is not `{OLD_SIZE_PREFIX}<size>`")
    old_size = _parse_size(old_line[len(OLD_SIZE_PREFIX):], "the old size")
    if len(proof_lines) > PROOF_LINES_MAX:
        raise WitnessMessageMalformed(
            f"the request holds {len(proof_lines)} proof lines, more than {PROOF_LINES_MAX}")
    proof = tuple(_parse_hash(line, position) for position, line in enumerate(proof_lines))
    return AddCheckpointRequest(old_size, proof, note)


def size_body(size: int) -> bytes:
    """A 409 answer's body: the size of the checkpoint the witness last cosigned."""
    _check_size(size, "the size")
    return f"{size}\n".encode()


def parse_size_body(body: bytes) -> int:
    """The size a witness's 409 answer says it last cosigned, or WitnessMessageMalformed."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        raise WitnessMessageMalformed("a size answer ends in a newline")
    return _parse_size(text[:-1], "the witness's size")


def cosignature_response(cosignatures: Iterable[NoteSignature]) -> bytes:
    """A 200 answer's body: one signature line per cosignature."""
    lines = "".join(signature.line() for signature in cosignatures)
    if not lines:
        raise WitnessMessageMalformed("a witness answers with at least one cosignature")
    return lines.encode()


def parse_cosignature_response(body: bytes) -> tuple[NoteSignature, ...]:
    """The signature lines of a 200 answer, none verified: add them to the checkpoint note and
    open it with the witnesses' keys (`note.add_signatures`, `checkpoint.open_checkpoint`)."""
    try:
        return parse_signature_lines(body.decode())
    except UnicodeDecodeError:
        raise WitnessMessageMalformed("the witness's answer is not UTF-8") from None
    except NoteError as error:
        raise WitnessMessageMalformed(
            f"the witness's answer is not signature lines: {error}") from None
