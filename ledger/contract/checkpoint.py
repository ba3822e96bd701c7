"""C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): a log's signed tree head.

The note text is `<origin>\\n<tree size>\\n<base64 root hash>\\n` and any extension lines; the
ledger signs it with its Ed25519 key under the key name = origin (SPEC §14). Parsing is strict
so that one tree head has one text: a size without leading zeros, a 32-byte root in canonical
base64, no empty line.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.contract.note import Note, NoteSigner, NoteVerifier, open_note, sign_note
from ledger.contract.note_keys import NoteError

HASH_LENGTH_BYTES = 32
# Sizes are leaf counts; the ledger keeps them in signed 64-bit integers (PostgreSQL bigint),
# as Go's sumdb/tlog does, so a larger one names no tree the ledger could hold.
TREE_SIZE_MAX = 2**63 - 1
_DIGITS = frozenset("0123456789")


class CheckpointMalformed(NoteError):
    """The note text is not a tlog checkpoint: origin, size, root hash or an extension line."""


class OriginMismatch(NoteError):
    """The checkpoint names another log than the one expected."""


class LogSignatureMissing(NoteError):
    """The checkpoint is not signed by the log's own key (a witness's signature is not enough)."""


def _parse_size(text: str) -> int:
    if not text or not set(text) <= _DIGITS or (text[0] == "0" and text != "0"):
        raise CheckpointMalformed(
            f"the tree size {text!r} is not a decimal number without leading zeros")
    if len(text) > len(str(TREE_SIZE_MAX)) or int(text) > TREE_SIZE_MAX:
        raise CheckpointMalformed(f"the tree size {text} is larger than {TREE_SIZE_MAX}")
    return int(text)


def _parse_root(text: str) -> bytes:
    try:
        root = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointMalformed(f"the root hash {text!r} is not base64") from None
    if len(root) != HASH_LENGTH_BYTES:
        raise CheckpointMalformed(f"the root hash holds {len(root)} bytes, not 32")
    if base64.b64encode(root).decode() != text:
        raise CheckpointMalformed(f"the root hash {text!r} is not in canonical base64")
    return root


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointMalformed("the origin must be one non-empty line")
        if not 0 <= self.size <= TREE_SIZE_MAX:
            raise CheckpointMalformed(f"the tree size {self.size} is out of range")
        if len(self.root_hash) != HASH_LENGTH_BYTES:
            raise CheckpointMalformed(f"the root hash holds {len(self.root_hash)} bytes, not 32")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointMalformed("an extension line must be one non-empty line")

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root,
                                                 *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointMalformed("a checkpoint's text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointMalformed("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        return cls(origin, _parse_size(size), _parse_root(root), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note of a checkpoint; the log's key name must be its origin (SPEC §14)."""
    if signer.name != checkpoint.origin:
        raise OriginMismatch(
            f"the key {signer.name} signs for another log than {checkpoint.origin}")
    return sign_note(checkpoint.text(), [signer])


def open_checkpoint(message: str | bytes, origin: str, log: NoteVerifier,
                    witnesses: Iterable[NoteVerifier] = ()) -> tuple[Checkpoint, Note]:
    """The checkpoint of a signed note that the log's key signed, with the note (whose
    `signatures` also hold each witness's cosignature that verified).

    Raises the note's errors, LogSignatureMissing, CheckpointMalformed, or OriginMismatch when
    the checkpoint is not of `origin`."""
    note = open_note(message, [log, *witnesses])
    if not any((s.name, s.key_id) == (log.name, log.key_id) for s in note.signatures):
        raise LogSignatureMissing(f"the checkpoint is not signed by the log key {log.name}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != origin:
        raise OriginMismatch(f"the checkpoint is of {checkpoint.origin!r}, not of {origin!r}")
    return checkpoint, note
