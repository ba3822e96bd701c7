"""The ledger's signed notices as messages on `pointsledger.outbound` (SPEC §5, §9)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.contract.notice import SignedNotice
from ledger.runtime.pipelined import OutgoingMessage, publish_pipelined
from ledger.runtime.topology import OUTBOUND_EXCHANGE


def outbound_message(signed: SignedNotice) -> OutgoingMessage:
    """Persistent JSON, the notice id as message id, the Standard Webhooks headers."""
    return OutgoingMessage(signed.notice.routing_key, signed.notice.notice_id, signed.body,
                           signed.headers)


def publish_notices(amqp_url: str, notices: Sequence[SignedNotice],
                    role: str = "notices") -> None:
    """Every notice confirmed by the broker and routed to its platform's queue (`mandatory`),
    or PublishFailed: the caller keeps them and publishes again."""
    publish_pipelined(amqp_url, OUTBOUND_EXCHANGE, [outbound_message(n) for n in notices], role)
