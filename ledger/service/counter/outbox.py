"""Notices to platforms, written in the same transaction as what they tell (SPEC §5, §9).

A redemption and its notice commit together or not at all; the relay publishes the notice
later, so a broker that is down delays a notice and never loses it.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from ledger.contract.notice import Notice, NoticeType, sign_notice
from ledger.infra.db.models import OutboundNotice


def write_notice(session: Session, ledger_key: Ed25519PrivateKey, notice_type: NoticeType,
                 *, platform: str, resident: str, points: int, now: datetime,
                 redemption_id: str, branch: str, receipt_no: str, ledger_seq: int) -> str:
    """Sign the notice and keep it in the outbox; its notice_id."""
    suffix = "redeemed" if notice_type is NoticeType.REDEEMED else "reversed"
    notice = Notice(f"{redemption_id}.{suffix}", platform, notice_type, resident, points, now,
                    redemption_id, branch, receipt_no, ledger_seq)
    signed = sign_notice(ledger_key, notice, int(now.timestamp()))
    session.add(OutboundNotice(notice_id=notice.notice_id, platform=platform,
                               routing_key=notice.routing_key, body=signed.body,
                               headers=signed.headers, created_at=now, published_at=None))
    return notice.notice_id
