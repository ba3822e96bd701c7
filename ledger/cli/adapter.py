"""`pointsledger adapter run|status|quarantine` and `pointsledger simulate` (SPEC §10)."""

from __future__ import annotations

import json
import logging
import random
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from adapters.base.adapter import AdapterProcess
from adapters.base.backlog_metric import export_backlog
from adapters.base.failures import AdapterFailed
from adapters.base.intake import Intake
from adapters.base.notices import NoticeHandler, NoticeListener
from adapters.base.outbox.database import Outbox, default_outbox_url
from adapters.base.pump import OutboxPump
from adapters.base.receipt_collector import ReceiptCollector
from adapters.base.receipt_settings import (
    API_URL_VARIABLE,
    LOG_VKEY_VARIABLE,
    TOKEN_FILE_VARIABLE,
    receipt_settings,
)
from adapters.base.residents import ResidentSeal
from adapters.base.simulated_platform import NoticeRecorder, SimulatedPlatform
from adapters.base.transport import AmqpTransport
from adapters.registry import PLATFORMS, UnknownAdapter, adapter_module
from ledger.cli.broker import broker_settings, quiet_broker_client_logs
from ledger.cli.common import EXIT_FAILURE, expected_errors, fail
from ledger.cli.metrics_option import metrics_listen_option, start_metrics
from ledger.cli.usage import listen_address
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import KeyFormatError, decode_private_key, decode_public_key

log = logging.getLogger(__name__)

PLATFORM_ARGUMENT = click.argument("platform", type=click.Choice(PLATFORMS))
OUTBOX_OPTION = click.option(
    "--outbox", "outbox_url", metavar="URL",
    help="the outbox database (default sqlite:///var/adapter-PLATFORM.sqlite3; a PostgreSQL URL "
         "uses the schema adapter_PLATFORM)")


@dataclass(frozen=True)
class RunOptions:
    listen: tuple[str, int] | None
    inbox: str | None
    url: str | None
    interval_s: float
    notify_url: str | None
    notices_dir: str | None


def _module(platform: str) -> ModuleType:
    try:
        return adapter_module(platform)
    except UnknownAdapter as error:
        fail(str(error))


def _listen_address(text: str | None) -> tuple[str, int] | None:
    return None if text is None else listen_address(text)


def _signer(key_file: Path) -> EventSigner:
    try:
        return EventSigner(decode_private_key(key_file.read_text(encoding="ascii").strip()))
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the key file {key_file}: {type(error).__name__}")
    except (KeyFormatError, ValueError):
        fail(f"the key file {key_file} does not hold a whsk_ Ed25519 private key")


@click.group("adapter")
def adapter() -> None:
    """Run a township platform's adapter and look into its outbox."""
    # Opening an outbox upgrades its tables (adapters.base.outbox.migrate): that is no news
    # for whoever reads the command's output, unless it fails.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@adapter.command("run")
@PLATFORM_ARGUMENT
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the platform's whsk_ private key (from `pointsledger keys generate`)")
@click.option("--listen", metavar="HOST:PORT", help="where push platforms deliver")
@click.option("--inbox", type=click.Path(file_okay=False), help="directory of dropped files")
@click.option("--url", metavar="BASE", help="the platform's API to poll")
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.1), default=10.0,
              show_default=True, help="seconds between polls or inbox scans")
@click.option("--ledger-public-key", envvar="POINTSLEDGER_LEDGER_PUBLIC_KEY", metavar="whpk_…",
              help="the ledger's public key (`pointsledger keys ledger`); with it the adapter "
                   "delivers the ledger's signed notices to the platform [env "
                   "POINTSLEDGER_LEDGER_PUBLIC_KEY]")
@click.option("--notify-url", metavar="URL",
              help="where the platform takes notices (push platforms; wuhe_zhonglian: "
                   "default BASE/api/notices)")
@click.option("--notices-dir", type=click.Path(file_okay=False),
              help="where notice files are written (nanyang_young; default INBOX/notices)")
@click.option("--ledger-api-url", envvar=API_URL_VARIABLE, metavar="URL",
              help="the ledger's API; with the two options below the adapter keeps the "
                   f"ledger's receipts for its events [env {API_URL_VARIABLE}]")
@click.option("--ledger-api-token-file", envvar=TOKEN_FILE_VARIABLE,
              type=click.Path(path_type=Path, dir_okay=False),
              help="a file holding the API token of a platform_operator of this platform "
                   f"[env {TOKEN_FILE_VARIABLE}]")
@click.option("--ledger-log-vkey", envvar=LOG_VKEY_VARIABLE, metavar="VKEY",
              help="the ledger's log verifier key (`pointsledger keys ledger --vkey`) "
                   f"[env {LOG_VKEY_VARIABLE}]")
@OUTBOX_OPTION
@metrics_listen_option
@expected_errors
def adapter_run(platform: str, key_file: Path, listen: str | None, inbox: str | None,
                url: str | None, interval_s: float, ledger_public_key: str | None,
                notify_url: str | None, notices_dir: str | None, ledger_api_url: str | None,
                ledger_api_token_file: Path | None, ledger_log_vkey: str | None,
                outbox_url: str | None, metrics_listen: tuple[str, int] | None) -> None:
    """Receive the platform's native records, sign them and publish them to RabbitMQ; deliver
    the ledger's notices to the platform; keep the ledger's receipts for the events."""
    quiet_broker_client_logs()
    settings, amqp_url = broker_settings()
    module = _module(platform)
    signer = _signer(key_file)
    try:
        receipts = receipt_settings(ledger_api_url, ledger_api_token_file, ledger_log_vkey)
    except ValueError as error:
        fail(str(error))
    options = RunOptions(_listen_address(listen), inbox, url, interval_s, notify_url,
                         notices_dir)
    # An empty value (an unset variable in a deployment file) means no notices, as no option.
    ledger_key = _ledger_public_key(ledger_public_key) if ledger_public_key else None
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        if metrics_listen is not None:
            export_backlog(platform, outbox.events)
            start_metrics(metrics_listen)
        try:
            source = module.make_source(options, outbox)
            sink = None if ledger_key is None else module.make_notice_sink(options)
        except ValueError as error:
            fail(str(error))
        background = []
        if sink is None:
            log.warning("adapter %s does not take the ledger's notices: give "
                        "--ledger-public-key (see `pointsledger keys ledger`)", platform)
        else:
            assert ledger_key is not None
            handler = NoticeHandler(platform, ledger_key, outbox,
                                    ResidentSeal(settings.resident_pepper), sink)
            background.append(NoticeListener(amqp_url, handler).run)
        outbox.receipts.set_collecting(receipts is not None)
        if receipts is None:
            log.info("adapter %s keeps no receipts of the ledger: give %s, %s and %s",
                     platform, API_URL_VARIABLE, TOKEN_FILE_VARIABLE, LOG_VKEY_VARIABLE)
        else:
            background.append(ReceiptCollector(platform, outbox.receipts, receipts.api,
                                               receipts.log_key).run)
        intake = Intake(module.Mapper(), outbox, signer, settings.resident_pepper)
        pump = OutboxPump(outbox.events, AmqpTransport(amqp_url, platform))
        try:
            AdapterProcess(source, intake, pump, background).run()
        except AdapterFailed as error:
            # Exit 1 for the supervisor to restart it; the traceback is in the log already.
            fail(str(error), code=EXIT_FAILURE)
    finally:
        outbox.close()


def _ledger_public_key(text: str) -> bytes:
    try:
        return decode_public_key(text.strip())
    except (KeyFormatError, ValueError):
        fail("--ledger-public-key must be the ledger's whpk_ public key "
             "(`pointsledger keys ledger` prints it)")


@adapter.command("status")
@PLATFORM_ARGUMENT
@OUTBOX_OPTION
@expected_errors
def adapter_status(platform: str, outbox_url: str | None) -> None:
    """JSON: backlog (events not yet confirmed by the broker), last_seq, quarantined, and the
    ledger's receipts for the published events ("off" unless the adapter collects them)."""
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        click.echo(json.dumps({"platform": platform, **outbox.status(),
                               "receipts": outbox.receipts.status()}))
    finally:
        outbox.close()


@adapter.command("quarantine")
@PLATFORM_ARGUMENT
@OUTBOX_OPTION
@expected_errors
def adapter_quarantine(platform: str, outbox_url: str | None) -> None:
    """JSON lines: each quarantined record with its location and reason (ID numbers masked),
    then each refused notice of the ledger with its reason."""
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        for record in outbox.quarantine.records():
            click.echo(json.dumps(record.document(), ensure_ascii=False))
        for notice in outbox.notices.refused():
            click.echo(json.dumps({"kind": "notice", **notice.document()}, ensure_ascii=False))
    finally:
        outbox.close()


@click.command("simulate")
@PLATFORM_ARGUMENT
@click.option("--count", type=click.IntRange(min=1, max=1_000_000), default=100,
              show_default=True)
@click.option("--bad", type=click.IntRange(min=0), default=0, show_default=True,
              help="records that must be quarantined (bad ID, category, date, points)")
@click.option("--seed", type=int, default=None, help="repeatable output")
@click.option("--to", "target", metavar="URL|DIR",
              help="the adapter's endpoint (push platforms) or inbox (file drops); "
                   "default: print the native payload")
@click.option("--listen", metavar="HOST:PORT",
              help="then stay up as the platform: wuhe_zhonglian serves its records and takes "
                   "notices at /api/notices; push platforms take notices at /notices. Each "
                   "notice received is printed as a JSON line")
def simulate(platform: str, count: int, bad: int, seed: int | None, target: str | None,
             listen: str | None) -> None:
    """Realistic native records of that platform, as the platform itself would send them."""
    module = _module(platform)
    address = _listen_address(listen)
    simulator = module.simulator
    if address is not None and hasattr(simulator, "drop"):
        fail(f"{platform} exchanges files: its notices arrive in the adapter's --notices-dir, "
             "there is nothing to listen for")
    # Simulated data, not secrets: a seeded generator makes a run repeatable.
    records = module.generate(random.Random(seed), count, bad, datetime.now(UTC))  # noqa: S311
    if hasattr(simulator, "PlatformServer"):
        if address is None:
            if target is not None:
                fail(f"{platform} is polled by its adapter: serve its records with --listen "
                     "HOST:PORT and run the adapter with --url http://HOST:PORT")
            _print_payload(module, records)
            return
        _serve(simulator.PlatformServer(records, *address, on_notice=_print_notice))
        return
    if target is not None:
        _send(simulator, records, target)
    else:
        _print_payload(module, records)
    if address is not None:
        _serve(NoticeRecorder(*address, on_notice=_print_notice))


def _print_payload(module: ModuleType, records: list[Any]) -> None:
    sys.stdout.buffer.write(module.payload(records))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()  # before serving: a reader of the pipe sees the records at once


def _send(simulator: ModuleType, records: list[Any], target: str) -> None:
    try:
        if hasattr(simulator, "deliver"):
            simulator.deliver(records, target)
        else:
            click.echo(str(simulator.drop(records, Path(target))))
    except (OSError, ValueError) as error:
        fail(f"cannot deliver the records to {target}: {error}")


def _print_notice(notice: Any) -> None:
    click.echo(json.dumps(notice, ensure_ascii=False))


def _serve(server: SimulatedPlatform) -> None:
    """Until SIGTERM or Ctrl-C, as a platform would stay up."""
    signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))
    click.echo(f"listening on {server.base_url}; notices at {server.notice_url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


COMMANDS = (adapter, simulate)
