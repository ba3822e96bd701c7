"""Per-platform seq tracking: the highest seq recorded and the gaps below it (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ledger.infra.db.models import Platform, PlatformSeqGap


def record_platform_seqs(session: Session, platform: str, seqs: Iterable[int]) -> None:
    """Advance last_seq and open or close gaps for seqs just recorded (never seen before)."""
    ordered = sorted(seqs)
    if not ordered:
        return
    last_seq = session.scalar(select(Platform.last_seq).where(Platform.code == platform))
    assert last_seq is not None
    gaps: dict[int, int] | None = None  # first_seq -> last_seq; loaded only when filling one
    if ordered[0] < last_seq:
        gaps = dict(session.execute(
            select(PlatformSeqGap.first_seq, PlatformSeqGap.last_seq)
            .where(PlatformSeqGap.platform == platform)
        ).all())
    original_gaps = dict(gaps or {})
    new_gaps: dict[int, int] = {}
    for seq in ordered:
        if seq > last_seq:
            if seq > last_seq + 1:
                new_gaps[last_seq + 1] = seq - 1
            last_seq = seq
            continue
        # A late event fills a hole below last_seq: split the gap that holds it.
        pool = new_gaps if _holder(new_gaps, seq) is not None else gaps
        assert pool is not None
        first = _holder(pool, seq)
        assert first is not None, f"platform {platform} seq {seq} recorded twice"
        end = pool.pop(first)
        if first < seq:
            pool[first] = seq - 1
        if seq < end:
            pool[seq + 1] = end
    session.execute(update(Platform).where(Platform.code == platform).values(last_seq=last_seq))
    if gaps is not None:
        removed = [first for first, end in original_gaps.items() if gaps.get(first) != end]
        if removed:
            session.execute(delete(PlatformSeqGap).where(
                PlatformSeqGap.platform == platform, PlatformSeqGap.first_seq.in_(removed)))
        new_gaps.update({first: end for first, end in gaps.items()
                         if original_gaps.get(first) != end})
    if new_gaps:
        session.execute(insert(PlatformSeqGap), [
            {"platform": platform, "first_seq": first, "last_seq": end}
            for first, end in new_gaps.items()
        ])


def _holder(gaps: dict[int, int], seq: int) -> int | None:
    for first, end in gaps.items():
        if first <= seq <= end:
            return first
    return None


def gaps_of(session: Session, platform: str) -> list[tuple[int, int]]:
    return [
        (first, end) for first, end in session.execute(
            select(PlatformSeqGap.first_seq, PlatformSeqGap.last_seq)
            .where(PlatformSeqGap.platform == platform).order_by(PlatformSeqGap.first_seq)
        )
    ]


@dataclass(frozen=True)
class PlatformOverview:
    """A platform as its readers see it: who it is, the highest seq recorded, the gaps below."""

    code: str
    name: str
    township: str
    last_seq: int
    gaps: list[tuple[int, int]]

    @property
    def missing(self) -> int:
        """How many of the platform's seqs below last_seq have not arrived."""
        return sum(last - first + 1 for first, last in self.gaps)


def platform_overviews(session: Session, platform: str | None = None) -> list[PlatformOverview]:
    """Every platform (or only `platform`, a platform operator's own), by code."""
    statement = select(Platform).order_by(Platform.code)
    if platform is not None:
        statement = statement.where(Platform.code == platform)
    return [PlatformOverview(row.code, row.name, row.township, row.last_seq,
                             gaps_of(session, row.code))
            for row in session.scalars(statement)]
