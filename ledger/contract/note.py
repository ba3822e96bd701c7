"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, as golang.org/x/mod/sumdb/note.

A signed note is a text ending in a newline, a blank line, then one line per signature:
`— <key name> <base64(4-byte key ID ‖ signature)>`. A key is known by its name and key ID
together; a signature by any other key is kept aside, unverified, never an error (that is how
witnesses add cosignatures beside the log's own signature). The keys themselves are in
`note_keys`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ledger.contract.note_keys import (
    KEY_ID_LENGTH_BYTES,
    NoteError,
    decode_base64,
    encode_base64,
    is_valid_key_name,
)

SIGNATURE_LINE_PREFIX = "— "
# Go's sumdb/note refuses a note with more signatures, so as not to spend forever on one; the
# spec asks verifiers to accept at least 16.
SIGNATURES_PER_NOTE_MAX = 100


class NoteMalformed(NoteError):
    """The note is not a signed note: encoding, control characters, layout or a signature line."""


class SignatureInvalid(NoteError):
    """A signature by a known key (name and key ID) does not verify: the note was altered."""


class UnverifiedNote(NoteError):
    """No signature by any of the given keys: the text must not be trusted."""


class KeyAmbiguous(NoteError):
    """Two of the given verifiers share a key name and key ID, so a signature cannot be placed."""


class NoteVerifier(Protocol):
    """One trusted key: the name and key ID it signs under, and how its signatures verify."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class NoteSigner(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name and ID, and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        encoded = encode_base64(self.key_id.to_bytes(KEY_ID_LENGTH_BYTES, "big") + self.signature)
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures verified, and the others kept aside."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...] = ()

    def message(self) -> str:
        """The signed note again, verified signatures first."""
        lines = "".join(s.line() for s in (*self.signatures, *self.unverified))
        return f"{self.text}\n{lines}"


def _check_characters(text: str) -> None:
    if any(char < " " and char != "\n" for char in text):
        raise NoteMalformed("the note holds a control character other than newline")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_LINE_PREFIX):
        raise NoteMalformed("a line after the note's last blank line is not a signature line")
    name, _, encoded = line[len(SIGNATURE_LINE_PREFIX):].partition(" ")
    raw = decode_base64(encoded)
    if not is_valid_key_name(name) or raw is None or len(raw) <= KEY_ID_LENGTH_BYTES:
        raise NoteMalformed(f"the signature line of {name!r} is not `— <key name> <base64>`")
    identifier = int.from_bytes(raw[:KEY_ID_LENGTH_BYTES], "big")
    return NoteSignature(name, identifier, raw[KEY_ID_LENGTH_BYTES:])


def parse_signature_lines(block: str) -> tuple[NoteSignature, ...]:
    """Signature lines alone (a witness's answer), each ending in a newline, at most
    SIGNATURES_PER_NOTE_MAX of them; nothing verified."""
    _check_characters(block)
    if not block.endswith("\n"):
        raise NoteMalformed("signature lines must each end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > SIGNATURES_PER_NOTE_MAX:
        raise NoteMalformed(f"more than {SIGNATURES_PER_NOTE_MAX} signatures")
    return tuple(_parse_signature_line(line) for line in lines)


def split_note(message: str | bytes) -> tuple[str, tuple[NoteSignature, ...]]:
    """The text and the signatures of a signed note, none of them verified yet."""
    try:
        message = message.decode() if isinstance(message, bytes) else message.encode().decode()
    except UnicodeError:
        raise NoteMalformed("the note is not valid UTF-8") from None
    _check_characters(message)
    split_at = message.rfind("\n\n")
    if split_at < 0:
        raise NoteMalformed("the note has no blank line before its signatures")
    return message[:split_at + 1], parse_signature_lines(message[split_at + 2:])


def _index_verifiers(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    index: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        known = (verifier.name, verifier.key_id)
        # A second verifier for the same name and ID (even the same one twice, as Go has it) is
        # kept as ambiguous, so that a signature under it is refused, never taken as unknown.
        index[known] = _Ambiguous(*known) if known in index else verifier
    return index


@dataclass(frozen=True)
class _Ambiguous:
    name: str
    key_id: int

    def verify(self, text: bytes, signature: bytes) -> bool:
        raise KeyAmbiguous(f"two verifiers are given for the key {self.name}+{self.key_id:08x}")


def open_note(message: str | bytes, verifiers: Iterable[NoteVerifier]) -> Note:
    """Verify a signed note against the trusted verifiers.

    Signatures by other keys (another name or key ID) are kept in `unverified`; a repeated
    signature by the same key counts once. Raises NoteMalformed, SignatureInvalid (a known key's
    signature does not verify), KeyAmbiguous, or UnverifiedNote (no known key signed it)."""
    text, signatures = split_note(message)
    known = _index_verifiers(verifiers)
    text_bytes = text.encode()
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[NoteSignature, None] = {}
    for signature in signatures:
        key = (signature.name, signature.key_id)
        verifier = known.get(key)
        if verifier is None:
            unverified.setdefault(signature)
            continue
        if key in verified:
            continue
        if not verifier.verify(text_bytes, signature.signature):
            raise SignatureInvalid(
                f"the signature by {signature.name}+{signature.key_id:08x} does not verify")
        verified[key] = signature
    if not verified:
        raise UnverifiedNote("the note is signed by none of the trusted keys")
    return Note(text, tuple(verified.values()), tuple(unverified))


def _check_text(text: str) -> None:
    _check_characters(text)
    if not text.endswith("\n"):
        raise NoteMalformed("a note's text must end in a newline")


def sign_note(text: str, signers: Iterable[NoteSigner]) -> str:
    """The signed note of `text` (which ends in a newline), one line per signer in order."""
    _check_text(text)
    signatures = [NoteSignature(s.name, s.key_id, s.sign(text.encode())) for s in signers]
    if not signatures:
        raise NoteMalformed("a signed note needs at least one signature")
    return Note(text, tuple(signatures)).message()


def add_signatures(message: str, signatures: Iterable[NoteSignature]) -> str:
    """The signed note with more signature lines (a witness's cosignatures, say); a new line
    replaces an older one by the same key. Nothing is verified here: open the result."""
    text, existing = split_note(message)
    added = {(s.name, s.key_id): s for s in signatures}
    kept = [s for s in existing if (s.name, s.key_id) not in added]
    combined = (*kept, *added.values())
    if len(combined) > SIGNATURES_PER_NOTE_MAX:
        raise NoteMalformed(f"more than {SIGNATURES_PER_NOTE_MAX} signatures")
    return Note(text, combined).message()
