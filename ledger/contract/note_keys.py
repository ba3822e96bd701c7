"""Keys of C2SP signed notes: key IDs, verifier keys (vkeys) and signer keys (skeys).

A verifier key is `<name>+<8 hex key ID>+<base64(signature type ‖ public key)>`; a signer key
is the same with `PRIVATE+KEY+` before it and the 32-byte Ed25519 seed in place of the public
key, as golang.org/x/mod/sumdb/note writes them. The key ID is the first four bytes of
SHA-256(name ‖ 0x0A ‖ signature type ‖ public key), so the same key under another name or
signature type (a witness's cosignatures are type 0x04) has another ID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ledger.contract.webhook import KEY_LENGTH_BYTES, SIGNATURE_LENGTH_BYTES, public_key_bytes

SIGNATURE_TYPE_ED25519 = 0x01
KEY_ID_LENGTH_BYTES = 4
SIGNER_KEY_PREFIX = "PRIVATE+KEY+"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class NoteError(ValueError):
    """A signed note, a key or a signature that cannot be trusted; the message says which."""


class KeyMalformed(NoteError):
    """A verifier or signer key text is not `[PRIVATE+KEY+]<name>+<hex id>+<base64>`."""


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key), first four bytes, big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:KEY_ID_LENGTH_BYTES], "big")


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode space and no plus (the separator of the key texts)."""
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def encode_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class VerifierKey:
    """A parsed verifier key: what the text says, its key ID already checked against its key."""

    name: str
    key_id: int
    signature_type: int
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        name, _, rest = text.partition("+")
        hex_id, _, encoded = rest.partition("+")
        key = decode_base64(encoded)
        if not is_valid_key_name(name):
            raise KeyMalformed("the verifier key's name is empty or holds a space or a plus")
        if len(hex_id) != 2 * KEY_ID_LENGTH_BYTES or not set(hex_id) <= _HEX_DIGITS:
            raise KeyMalformed("the verifier key's key ID is not 8 hexadecimal digits")
        if not key:
            raise KeyMalformed("the verifier key's key is not base64 of a type byte and a key")
        parsed = cls(name, int(hex_id, 16), key[0], key[1:])
        if parsed.key_id != key_id(name, key[0], key[1:]):
            raise KeyMalformed(f"the verifier key's key ID {hex_id} is not the one of its key")
        return parsed

    def text(self) -> str:
        material = encode_base64(bytes([self.signature_type]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{material}"


def ed25519_public_key(key: VerifierKey, signature_type: int) -> Ed25519PublicKey:
    """The Ed25519 key of a verifier key of the given type; KeyMalformed for any other."""
    if key.signature_type != signature_type:
        raise KeyMalformed(
            f"the verifier key {key.name} has signature type {key.signature_type:#04x}, "
            f"not {signature_type:#04x}")
    if len(key.public_key) != KEY_LENGTH_BYTES:
        raise KeyMalformed(f"the verifier key {key.name} does not hold a 32-byte Ed25519 key")
    try:
        return Ed25519PublicKey.from_public_bytes(key.public_key)
    except ValueError:
        raise KeyMalformed(f"the verifier key {key.name} is not an Ed25519 public key") from None


def parse_signer_key(text: str, signature_type: int) -> tuple[str, Ed25519PrivateKey]:
    """The name and Ed25519 key of a `PRIVATE+KEY+…` text of the given signature type; the key
    ID in the text must be the one of the key it holds."""
    if not text.startswith(SIGNER_KEY_PREFIX):
        raise KeyMalformed(f"a signer key starts with {SIGNER_KEY_PREFIX}")
    name, _, rest = text[len(SIGNER_KEY_PREFIX):].partition("+")
    hex_id, _, encoded = rest.partition("+")
    key = decode_base64(encoded)
    if not is_valid_key_name(name):
        raise KeyMalformed("the signer key's name is empty or holds a space or a plus")
    if len(hex_id) != 2 * KEY_ID_LENGTH_BYTES or not set(hex_id) <= _HEX_DIGITS:
        raise KeyMalformed("the signer key's key ID is not 8 hexadecimal digits")
    if not key or key[0] != signature_type or len(key) != 1 + KEY_LENGTH_BYTES:
        raise KeyMalformed(
            f"the signer key is not base64 of type {signature_type:#04x} and a 32-byte seed")
    private_key = Ed25519PrivateKey.from_private_bytes(key[1:])
    if int(hex_id, 16) != key_id(name, signature_type, public_key_bytes(private_key)):
        raise KeyMalformed(f"the signer key's key ID {hex_id} is not the one of its key")
    return name, private_key


def signer_key_text(name: str, signature_type: int, private_key: Ed25519PrivateKey) -> str:
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    identifier = key_id(name, signature_type, public_key_bytes(private_key))
    material = encode_base64(bytes([signature_type]) + seed)
    return f"{SIGNER_KEY_PREFIX}{name}+{identifier:08x}+{material}"


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 (type 0x01) verifier: a log's key, the ledger's among them."""

    name: str
    key_id: int
    public_key: Ed25519PublicKey = field(compare=False)

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        key = VerifierKey.parse(text)
        return cls(key.name, key.key_id, ed25519_public_key(key, SIGNATURE_TYPE_ED25519))

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != SIGNATURE_LENGTH_BYTES:
            return False
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NamedSigningKey:
    """An Ed25519 private key under a key name, of the signature type of its subclass: what a
    signer key text holds, and the verifier key it answers to."""

    SIGNATURE_TYPE: ClassVar[int]
    name: str
    private_key: Ed25519PrivateKey = field(compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyMalformed(f"the key name {self.name!r} is empty or holds a space or a plus")

    @classmethod
    def from_skey(cls, text: str) -> Self:
        """From a key file: `PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>`."""
        return cls(*parse_signer_key(text, cls.SIGNATURE_TYPE))

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.SIGNATURE_TYPE, public_key_bytes(self.private_key))

    def skey(self) -> str:
        return signer_key_text(self.name, self.SIGNATURE_TYPE, self.private_key)

    def vkey(self) -> str:
        public_key = public_key_bytes(self.private_key)
        return VerifierKey(self.name, self.key_id, self.SIGNATURE_TYPE, public_key).text()


@dataclass(frozen=True)
class Signer(NamedSigningKey):
    """An Ed25519 (type 0x01) signer under a key name; the ledger signs checkpoints with one."""

    SIGNATURE_TYPE: ClassVar[int] = SIGNATURE_TYPE_ED25519

    def sign(self, text: bytes) -> bytes:
        return self.private_key.sign(text)
