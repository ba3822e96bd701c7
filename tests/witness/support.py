"""A small log for the witness to watch: its leaves, roots, consistency proofs and signed
checkpoints, computed with ledger.contract.merkle as the ledger computes them."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.cosignature import CosignatureSigner, CosignatureVerifier
from ledger.contract.merkle import consistency_proof, leaf_hash, root_from_leaf_hashes
from ledger.contract.note_keys import Signer, Verifier
from ledger.contract.witness_protocol import add_checkpoint_request

ORIGIN = "example.org/ledger"
OTHER_ORIGIN = "example.org/other-ledger"
WITNESS_NAME = "witness.example.org/w1"
LEAVES = 20
NOW_S = 1_700_000_000


class Log:
    """A log of LEAVES entries under `signer`; `history` tells two logs apart that share a key
    (a log that forked: the same key, another history)."""

    def __init__(self, signer: Signer, history: str = "main") -> None:
        self.signer = signer
        self.leaf_hashes = [leaf_hash(f"{history} entry {i}".encode()) for i in range(LEAVES)]

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def vkey(self) -> str:
        return self.signer.vkey()

    def verifier(self) -> Verifier:
        return Verifier.from_vkey(self.vkey)

    def _hash_at(self, level: int, index: int) -> bytes:
        return root_from_leaf_hashes(self.leaf_hashes[index << level:(index + 1) << level])

    def root(self, size: int) -> bytes:
        return root_from_leaf_hashes(self.leaf_hashes[:size])

    def proof(self, first: int, second: int) -> list[bytes]:
        return consistency_proof(first, second, self._hash_at)

    def checkpoint(self, size: int, root: bytes | None = None) -> str:
        """The signed note of the checkpoint at `size` (of another `root` if given)."""
        checkpoint = Checkpoint(self.origin, size, self.root(size) if root is None else root)
        return sign_checkpoint(checkpoint, self.signer)

    def request(self, old: int, size: int, proof: Sequence[bytes] | None = None,
                note: str | None = None) -> bytes:
        """The add-checkpoint body from `old` to `size`, with the right proof unless given."""
        return add_checkpoint_request(old, self.proof(old, size) if proof is None else proof,
                                      self.checkpoint(size) if note is None else note)


def new_log(origin: str = ORIGIN) -> Log:
    return Log(Signer(origin, Ed25519PrivateKey.generate()))


def new_witness_key() -> CosignatureSigner:
    return CosignatureSigner(WITNESS_NAME, Ed25519PrivateKey.generate())


def witness_verifier(signer: CosignatureSigner) -> CosignatureVerifier:
    return CosignatureVerifier.from_vkey(signer.vkey())
