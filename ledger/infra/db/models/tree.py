"""The verifiable logs' Merkle trees (SPEC §14), kept as C2SP tlog-tiles hash tiles."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import Base

# A tile holds 1 to 256 hashes of 32 bytes (ledger.contract.tiles); the CHECK says it in SQL.
TILE_HASHES_MAX_BYTES = 256 * 32


class MerkleTile(Base):
    """One hash tile of a log's tree: tile `level` holds Merkle level 8·level, nodes
    `index`·256 … `index`·256 + 255 (fewer for the right-most, partial tile of a level).

    Derived data, recomputable from the log's entries (`pointsledger verify` does): a full tile
    never changes, the partial tile of each level grows in place as the log grows, so the table
    is not append-only. What outsiders hold the log to are its signed checkpoints."""

    __tablename__ = "merkle_tiles"
    __table_args__ = (
        CheckConstraint(
            f"length(hashes) BETWEEN 32 AND {TILE_HASHES_MAX_BYTES} AND length(hashes) % 32 = 0",
            name="whole_hashes"),
    )

    # "ledger" (the entries); "audit" for the audit trail's log.
    log: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)
