"""C2SP tlog-cosignature/v1 with Ed25519 (c2sp.org/tlog-cosignature): a witness's word that, at a
given time, this checkpoint was the largest consistent one it had seen of the log.

A witness signs `cosignature/v1\\ntime <unix seconds>\\n` followed by the checkpoint's note text;
its signature line carries base64(key ID ‖ 8-byte big-endian timestamp ‖ 64-byte signature),
the key ID computed with signature type 0x04, and its verifier key is a vkey of type 0x04.
The message does not name the witness, so one key must serve one witness name only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.contract.checkpoint import Checkpoint, CheckpointMalformed
from ledger.contract.note import NoteSignature, SignatureInvalid
from ledger.contract.note_keys import (
    NamedSigningKey,
    NoteError,
    VerifierKey,
    ed25519_public_key,
)
from ledger.contract.webhook import SIGNATURE_LENGTH_BYTES

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1"
TIMESTAMP_LENGTH_BYTES = 8
# The spec's bound: the timestamp is a u64 that must not exceed 2^63 - 1.
TIMESTAMP_MAX_S = 2**63 - 1


class CosignatureMalformed(NoteError):
    """A cosignature is not an 8-byte timestamp and a 64-byte Ed25519 signature."""


def cosigned_message(checkpoint_text: str, timestamp_s: int) -> bytes:
    """What a witness signs: the header line, the time line, then the checkpoint's note text."""
    Checkpoint.parse(checkpoint_text)
    if not 0 <= timestamp_s <= TIMESTAMP_MAX_S:
        raise CosignatureMalformed(f"the timestamp {timestamp_s} is out of range")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp_s}\n{checkpoint_text}".encode()


def cosignature_timestamp(signature: bytes) -> int:
    """The Unix seconds a cosignature (the bytes after the key ID) says it was made at."""
    if len(signature) != TIMESTAMP_LENGTH_BYTES + SIGNATURE_LENGTH_BYTES:
        raise CosignatureMalformed(
            f"a cosignature holds {TIMESTAMP_LENGTH_BYTES + SIGNATURE_LENGTH_BYTES} bytes, "
            f"not {len(signature)}")
    timestamp_s = int.from_bytes(signature[:TIMESTAMP_LENGTH_BYTES], "big")
    if timestamp_s > TIMESTAMP_MAX_S:
        raise CosignatureMalformed(f"the timestamp {timestamp_s} is beyond 2^63 - 1")
    return timestamp_s


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's key (type 0x04), usable with `open_note` beside the log's own verifier."""

    name: str
    key_id: int
    public_key: Ed25519PublicKey = field(compare=False)

    @classmethod
    def from_vkey(cls, text: str) -> CosignatureVerifier:
        key = VerifierKey.parse(text)
        return cls(key.name, key.key_id, ed25519_public_key(key, SIGNATURE_TYPE_COSIGNATURE_V1))

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            message = cosigned_message(text.decode(), cosignature_timestamp(signature))
            self.public_key.verify(signature[TIMESTAMP_LENGTH_BYTES:], message)
        except (NoteError, UnicodeDecodeError, InvalidSignature):
            return False
        return True

    def timestamp_of(self, checkpoint_text: str, signature: NoteSignature) -> int:
        """The time of this witness's cosignature of the checkpoint; SignatureInvalid if it is
        not this witness's or does not verify, CosignatureMalformed if it is not a cosignature."""
        if (signature.name, signature.key_id) != (self.name, self.key_id):
            raise SignatureInvalid(
                f"the signature by {signature.name}+{signature.key_id:08x} is not "
                f"the witness {self.name}+{self.key_id:08x}'s")
        timestamp_s = cosignature_timestamp(signature.signature)
        if not self.verify(checkpoint_text.encode(), signature.signature):
            raise SignatureInvalid(f"the cosignature by {self.name} does not verify")
        return timestamp_s


@dataclass(frozen=True)
class CosignatureSigner(NamedSigningKey):
    """A witness's Ed25519 key under its name (type 0x04); `pointsledger witness` cosigns with
    it."""

    SIGNATURE_TYPE: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1

    def cosign(self, checkpoint_text: str, timestamp_s: int) -> NoteSignature:
        """The cosignature of a checkpoint's note text at `timestamp_s` (Unix seconds)."""
        try:
            message = cosigned_message(checkpoint_text, timestamp_s)
        except CheckpointMalformed as error:
            raise CheckpointMalformed(f"a witness cosigns checkpoints only: {error}") from None
        signature = self.private_key.sign(message)
        stamp = timestamp_s.to_bytes(TIMESTAMP_LENGTH_BYTES, "big")
        return NoteSignature(self.name, self.key_id, stamp + signature)
