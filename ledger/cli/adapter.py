"""`pointsledger adapter run|status|quarantine` and `pointsledger simulate` (SPEC §10)."""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import click

from adapters.base.adapter import AdapterProcess
from adapters.base.intake import Intake
from adapters.base.outbox import Outbox, default_outbox_url
from adapters.base.pump import OutboxPump
from adapters.base.transport import AmqpTransport
from adapters.registry import PLATFORMS, UnknownAdapter, adapter_module
from ledger.cli.broker import broker_settings, quiet_broker_client_logs
from ledger.cli.common import expected_errors, fail
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import KeyFormatError, decode_private_key

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


def _module(platform: str) -> ModuleType:
    try:
        return adapter_module(platform)
    except UnknownAdapter as error:
        fail(str(error))


def _listen_address(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(f"--listen must be HOST:PORT, not {text!r}")
    return host, int(port)


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


@adapter.command("run")
@PLATFORM_ARGUMENT
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the platform's whsk_ private key (from `pointsledger keys generate`)")
@click.option("--listen", metavar="HOST:PORT", help="where push platforms deliver")
@click.option("--inbox", type=click.Path(file_okay=False), help="directory of dropped files")
@click.option("--url", metavar="BASE", help="the platform's API to poll")
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.1), default=10.0,
              show_default=True, help="seconds between polls or inbox scans")
@OUTBOX_OPTION
@expected_errors
def adapter_run(platform: str, key_file: Path, listen: str | None, inbox: str | None,
                url: str | None, interval_s: float, outbox_url: str | None) -> None:
    """Receive the platform's native records, sign them and publish them to RabbitMQ."""
    quiet_broker_client_logs()
    settings, amqp_url = broker_settings()
    module = _module(platform)
    signer = _signer(key_file)
    options = RunOptions(_listen_address(listen), inbox, url, interval_s)
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        try:
            source = module.make_source(options, outbox)
        except ValueError as error:
            fail(str(error))
        intake = Intake(module.Mapper(), outbox, signer, settings.resident_pepper)
        pump = OutboxPump(outbox, AmqpTransport(amqp_url, platform))
        AdapterProcess(source, intake, pump).run()
    finally:
        outbox.close()


@adapter.command("status")
@PLATFORM_ARGUMENT
@OUTBOX_OPTION
@expected_errors
def adapter_status(platform: str, outbox_url: str | None) -> None:
    """JSON: backlog (events not yet confirmed by the broker), last_seq, quarantined."""
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        click.echo(json.dumps({"platform": platform, **outbox.status()}))
    finally:
        outbox.close()


@adapter.command("quarantine")
@PLATFORM_ARGUMENT
@OUTBOX_OPTION
@expected_errors
def adapter_quarantine(platform: str, outbox_url: str | None) -> None:
    """JSON lines: each quarantined record with its location and reason (ID numbers masked)."""
    outbox = Outbox(outbox_url or default_outbox_url(platform), platform)
    try:
        for record in outbox.quarantined():
            click.echo(json.dumps(record.document(), ensure_ascii=False))
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
def simulate(platform: str, count: int, bad: int, seed: int | None, target: str | None) -> None:
    """Realistic native records of that platform, as the platform itself would send them."""
    module = _module(platform)
    # Simulated data, not secrets: a seeded generator makes a run repeatable.
    records = module.generate(random.Random(seed), count, bad, datetime.now(UTC))  # noqa: S311
    if target is None:
        sys.stdout.buffer.write(module.payload(records))
        sys.stdout.buffer.write(b"\n")
        return
    simulator = module.simulator
    if hasattr(simulator, "deliver"):
        simulator.deliver(records, target)
    elif hasattr(simulator, "drop"):
        click.echo(str(simulator.drop(records, Path(target))))
    else:
        fail(f"{platform} is polled by its adapter: print its records (no --to) or serve them "
             "with the simulator's PlatformServer")


COMMANDS = (adapter, simulate)
