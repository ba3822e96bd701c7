"""`pointsledger notices …`: the ledger's signed notices to platforms (SPEC §5, §9).

Redemptions write their notices into the database's outbox; `notices relay` publishes them to
`pointsledger.outbound` (run it beside `pointsledger consume`; one relay per ledger keeps the
notices in order). In the embedded mode, without a broker, notices wait in the outbox.
"""

from __future__ import annotations

import json
import signal
from types import FrameType

import click

from ledger.cli.broker import broker_settings, quiet_broker_client_logs
from ledger.cli.common import expected_errors, ledger_context
from ledger.cli.metrics_option import metrics_listen_option, start_metrics
from ledger.infra.amqp.notice_relay import NoticeRelay, outbox_status


@click.group()
def notices() -> None:
    """Signed notices to platforms (redemptions and reversals)."""


@notices.command("relay")
@metrics_listen_option
@expected_errors
def notices_relay(metrics_listen: tuple[str, int] | None) -> None:
    """Publish the outbox of notices until SIGTERM/SIGINT (exit 0)."""
    quiet_broker_client_logs()
    _settings, amqp_url = broker_settings()
    start_metrics(metrics_listen)
    with ledger_context() as ledger:
        relay = NoticeRelay(ledger.sessions, amqp_url, ledger.clock)

        def request_stop(_signal_number: int, _frame: FrameType | None) -> None:
            relay.stop()

        previous = {number: signal.signal(number, request_stop)
                    for number in (signal.SIGTERM, signal.SIGINT)}
        click.echo("relaying notices to pointsledger.outbound", err=True)
        try:
            relay.run()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        click.echo(f"relay stopped: {relay.published} notices published", err=True)


@notices.command("status")
@expected_errors
def notices_status() -> None:
    """JSON: notices pending in the outbox and published."""
    with ledger_context() as ledger, ledger.sessions() as session:
        click.echo(json.dumps(outbox_status(session)))


COMMANDS = (notices,)
