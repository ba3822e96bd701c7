"""Signed checkpoints of the verifiable logs, the witnesses asked to cosign them and what they
cosigned (SPEC §14). All append-only: a checkpoint, once shown to anyone, is evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import APPEND_ONLY, Base
from ledger.runtime.database import BigId


class CheckpointRow(Base):
    """A tree head the ledger signed: `note` is the C2SP signed note with the ledger's own
    signature only; cosignatures are kept beside it (WitnessCosignature) and added when the
    note is published."""

    __tablename__ = "checkpoints"
    # A log signs a checkpoint only when its tree has grown, so sizes only go up.
    __table_args__ = (UniqueConstraint("log", "size"), APPEND_ONLY)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    log: Mapped[str] = mapped_column(String(16))  # "ledger" or "audit", as merkle_tiles.log
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class Witness(Base):
    """Someone outside the bank (a township, the regulator) who cosigns checkpoints."""

    __tablename__ = "witnesses"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    # The witness's note verifier key `<name>+<key id>+<base64>` (C2SP signed-note).
    vkey: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime]


class WitnessCosignature(Base):
    """A cosignature a witness returned for a checkpoint: its note signature line, verified
    against the witness's vkey before it was kept."""

    __tablename__ = "witness_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "witness"),
                      Index(None, "witness", "checkpoint_id"), APPEND_ONLY)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("checkpoints.id"))
    witness: Mapped[str] = mapped_column(ForeignKey("witnesses.name"))
    signature_line: Mapped[str] = mapped_column(Text)
    # The time the witness put in its cosignature (cosignature/v1), and when we got it.
    cosigned_at: Mapped[datetime]
    received_at: Mapped[datetime]
