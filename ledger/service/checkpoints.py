"""Signed checkpoints of the two verifiable logs (SPEC §14): the ledger's entries and the audit
trail, each a Merkle tree signed as a C2SP tlog-checkpoint under the ledger key.

A checkpoint is signed only when its tree has grown and only if the grown tree is consistent
with the last checkpoint signed: the ledger refuses to sign a history that contradicts one it
has already shown (a database restored from an older backup, a cut, an altered tile). Once
signed, a checkpoint is kept append-only, and every cosignature a witness returns beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.merkle import root_from_stored
from ledger.contract.note import add_signatures, parse_signature_lines
from ledger.contract.note_keys import Signer
from ledger.infra.db.models import CheckpointRow, WitnessCosignature
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG, TileStore, TreeHashMissing

LOGS = (LEDGER_LOG, AUDIT_LOG)
AUDIT_ORIGIN_SUFFIX = "/audit"
# Two checkpointers (a second one started by mistake) take turns per log; any constants that
# differ from the chain's and the audit trail's locks do.
CHECKPOINT_LOCK_KEYS = {LEDGER_LOG: 0x504C434B, AUDIT_LOG: 0x504C4341}  # "PLCK", "PLCA"
CHECKPOINTS_PAGE_MAX = 100


class TreeContradictsCheckpoint(RuntimeError):
    """The stored tree no longer gives the root, or the size, of a checkpoint already signed:
    it was restored, cut or altered. Nothing more is signed until someone looks."""


def log_origin(origin: str, log: str) -> str:
    """The origin line of `log`'s checkpoints: the ledger's origin, or `<origin>/audit`."""
    if log not in LOGS:
        raise ValueError(f"no log named {log!r}")
    return origin if log == LEDGER_LOG else origin + AUDIT_ORIGIN_SUFFIX


def log_signer(origin: str, log: str, key: Ed25519PrivateKey) -> Signer:
    """The ledger key under the log's name: the key that signs its checkpoints."""
    return Signer(log_origin(origin, log), key)


@dataclass(frozen=True)
class CheckpointPolicy:
    """When a log's growth is signed: at most `interval_s` after the tree grows, checked every
    `poll_s`; so a new checkpoint is signed once the last is `interval_s − poll_s` old."""

    interval_s: float
    poll_s: float

    @classmethod
    def for_interval(cls, interval_s: float) -> CheckpointPolicy:
        return cls(interval_s, min(1.0, interval_s / 4))

    def due(self, latest: CheckpointRow | None, size: int, now: datetime) -> bool:
        if size == 0 or (latest is not None and latest.size >= size):
            return False
        if latest is None:
            return True
        return now - latest.signed_at >= timedelta(seconds=self.interval_s - self.poll_s)


def latest_checkpoint(session: Session, log: str) -> CheckpointRow | None:
    return session.scalars(select(CheckpointRow).where(CheckpointRow.log == log)
                           .order_by(CheckpointRow.size.desc()).limit(1)).first()


def checkpoint_of_size(session: Session, log: str, size: int) -> CheckpointRow | None:
    return session.scalars(select(CheckpointRow).where(
        CheckpointRow.log == log, CheckpointRow.size == size)).first()


def checkpoints_after(session: Session, log: str, after_size: int,
                      limit: int = CHECKPOINTS_PAGE_MAX) -> list[CheckpointRow]:
    """The checkpoints larger than `after_size`, smallest first."""
    return list(session.scalars(select(CheckpointRow).where(
        CheckpointRow.log == log, CheckpointRow.size > after_size)
        .order_by(CheckpointRow.size).limit(limit)))


def sign_if_due(session: Session, log: str, signer: Signer, policy: CheckpointPolicy,
                now: datetime) -> CheckpointRow | None:
    """Sign `log`'s tree head when the policy says so; the new checkpoint, or None.

    Raises TreeContradictsCheckpoint when the tree is smaller than, or not consistent with,
    the last checkpoint signed."""
    _lock(session, log)
    store = TileStore(session, log)
    size = store.size()
    latest = latest_checkpoint(session, log)
    try:
        if latest is not None and size < latest.size:
            _check_still_holds(store, latest, size)  # raises: the tree was cut
        if not policy.due(latest, size, now):
            return None
        # Read only when about to sign: the checkpointer polls several times a second.
        if latest is not None:
            _check_still_holds(store, latest, size)
        root = root_from_stored(size, store.hash_at)
    except TreeHashMissing as error:
        raise TreeContradictsCheckpoint(f"the {log} tree is missing hashes: {error}") from None
    row = CheckpointRow(log=log, size=size, root=root, signed_at=now,
                        note=sign_checkpoint(Checkpoint(signer.name, size, root), signer))
    session.add(row)
    session.flush()
    return row


def checkpoint_holds(session: Session, row: CheckpointRow) -> bool:
    """Whether the stored tree still gives the checkpoint's root at its size."""
    store = TileStore(session, row.log)
    try:
        return store.size() >= row.size and root_from_stored(row.size, store.hash_at) == row.root
    except TreeHashMissing:
        return False


def _check_still_holds(store: TileStore, latest: CheckpointRow, size: int) -> None:
    """The stored tree still contains the last signed one: as large, and with its root at its
    size (the tiles under that root are exactly what a consistency proof is made of)."""
    if size < latest.size:
        raise TreeContradictsCheckpoint(
            f"the {latest.log} tree holds {size} leaves, fewer than the {latest.size} of the "
            f"checkpoint signed at {latest.signed_at:%Y-%m-%d %H:%M:%S}Z: it was cut or restored")
    if root_from_stored(latest.size, store.hash_at) != latest.root:
        raise TreeContradictsCheckpoint(
            f"the {latest.log} tree's root at size {latest.size} is not the one signed at "
            f"{latest.signed_at:%Y-%m-%d %H:%M:%S}Z: its history was rewritten")


def _lock(session: Session, log: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": CHECKPOINT_LOCK_KEYS[log]})


def cosignatures(session: Session, checkpoint_id: int) -> list[WitnessCosignature]:
    return list(session.scalars(select(WitnessCosignature).where(
        WitnessCosignature.checkpoint_id == checkpoint_id).order_by(WitnessCosignature.id)))


def published_note(session: Session, row: CheckpointRow) -> str:
    """The checkpoint as published: the ledger's signed note with every cosignature gathered."""
    return published_notes(session, [row])[0]


def published_notes(session: Session, rows: Sequence[CheckpointRow]) -> list[str]:
    """`published_note` of each row, their cosignatures read in one query (a page of them)."""
    lines: dict[int, list[str]] = {row.id: [] for row in rows}
    for cosignature in session.scalars(select(WitnessCosignature).where(
            WitnessCosignature.checkpoint_id.in_(list(lines)))
            .order_by(WitnessCosignature.id)):
        lines[cosignature.checkpoint_id].append(cosignature.signature_line + "\n")
    return [add_signatures(row.note, parse_signature_lines("".join(lines[row.id])))
            if lines[row.id] else row.note for row in rows]
