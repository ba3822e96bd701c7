"""The keys an auditor trusts, and the three checks on the log's latest checkpoint: the log's own
signature, enough of the given witnesses' cosignatures, and consistency with the checkpoint kept
from the previous run (SPEC §14)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.cosignature import CosignatureVerifier, cosignature_timestamp
from ledger.contract.merkle import ProofInvalid, verify_consistency
from ledger.contract.note_keys import NoteError, Verifier
from ledger.outside_audit.errors import AuditFailed, UsageError
from ledger.outside_audit.kept_checkpoints import KeptCheckpoint

# The audit trail is a second log with the same machinery; its origin is the ledger's + this.
AUDIT_TRAIL_SUFFIX = "/audit"

# Asked of the server: the consistency proof from the first size to the second.
ProofSource = Callable[[int, int], list[bytes]]


@dataclass(frozen=True)
class TrustedKeys:
    """The log's key (its name is the log's origin), the witnesses', and how many must cosign."""

    log: Verifier
    witnesses: tuple[CosignatureVerifier, ...]
    quorum: int

    @classmethod
    def parse(cls, log_vkey: str, witness_vkeys: Iterable[str],
              quorum: int | None) -> TrustedKeys:
        """UsageError for a key that is not a vkey of its type, or a quorum out of reach."""
        try:
            log = Verifier.from_vkey(log_vkey.strip())
        except NoteError as error:
            raise UsageError(f"--log-vkey is not a log's verifier key: {error}") from None
        witnesses: dict[tuple[str, int], CosignatureVerifier] = {}
        for text in witness_vkeys:
            try:
                witness = CosignatureVerifier.from_vkey(text.strip())
            except NoteError as error:
                raise UsageError(
                    f"--witness-vkey {text.strip()!r} is not a witness's verifier key: {error}"
                ) from None
            # The same witness given twice is one witness: it cannot count twice to a quorum.
            witnesses[(witness.name, witness.key_id)] = witness
        wanted = len(witnesses) if quorum is None else quorum
        if not 0 <= wanted <= len(witnesses):
            raise UsageError(f"--quorum {wanted} asks for more cosignatures than the "
                             f"{len(witnesses)} distinct witnesses given")
        return cls(log, tuple(witnesses.values()), wanted)

    @property
    def origin(self) -> str:
        return self.log.name

    @property
    def is_audit_trail(self) -> bool:
        return self.origin.endswith(AUDIT_TRAIL_SUFFIX)


@dataclass(frozen=True)
class Cosignature:
    witness: str
    timestamp_s: int


@dataclass(frozen=True)
class LatestCheckpoint:
    checkpoint: Checkpoint
    note: str
    cosignatures: tuple[Cosignature, ...]


def open_latest(note: str, keys: TrustedKeys) -> LatestCheckpoint:
    """The checkpoint the log signed, with the given witnesses' cosignatures that verify;
    AuditFailed unless the log signed it and at least the quorum of witnesses cosigned it."""
    try:
        checkpoint, opened = open_checkpoint(note, keys.origin, keys.log, keys.witnesses)
    except NoteError as error:
        raise AuditFailed(f"the latest checkpoint of {keys.origin} does not verify: "
                          f"{error}") from None
    witness_keys = {(witness.name, witness.key_id) for witness in keys.witnesses}
    cosignatures = tuple(
        Cosignature(signature.name, cosignature_timestamp(signature.signature))
        for signature in opened.signatures if (signature.name, signature.key_id) in witness_keys)
    if len(cosignatures) < keys.quorum:
        names = ", ".join(c.witness for c in cosignatures) or "none of them"
        raise AuditFailed(
            f"the latest checkpoint of {keys.origin} (size {checkpoint.size}) is cosigned by "
            f"{len(cosignatures)} of the given witnesses ({names}), fewer than the quorum of "
            f"{keys.quorum}")
    return LatestCheckpoint(checkpoint, note, cosignatures)


def check_consistency(kept: KeptCheckpoint | None, latest: Checkpoint,
                      proof_source: ProofSource) -> None:
    """AuditFailed unless the kept checkpoint's tree is a prefix of the latest one's: a log cut
    short, restored from an older backup or rebuilt with another history fails here."""
    if kept is None:
        return
    old = kept.checkpoint
    not_consistent = f"not consistent with {kept.described()}"
    if latest.size < old.size:
        raise AuditFailed(f"{not_consistent}: the latest checkpoint has size {latest.size}, "
                          f"smaller than it")
    if latest.size == old.size:
        if latest.root_hash != old.root_hash:
            raise AuditFailed(f"{not_consistent}: the latest checkpoint has the same size and "
                              f"another root")
        return
    # From the empty tree every tree follows: no proof to ask for.
    proof = proof_source(old.size, latest.size) if old.size else []
    try:
        verify_consistency(old.size, latest.size, old.root_hash, latest.root_hash, proof)
    except ProofInvalid as error:
        raise AuditFailed(f"{not_consistent}: {error}") from None
