"""`pointsledger demo`: the embedded quick start (SPEC §3).

The four platforms' simulators produce native records, which arrive at the four adapters the
way each platform sends them; the adapters sign them into their outboxes and publish them to the
embedded ledger's API.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger, build
from ledger.cli.common import expected_errors, fail
from ledger.cli.serve import serve_development
from ledger.contract.signing import EventSigner
from ledger.demo.arrivals import ArrivalFailed
from ledger.demo.batches import GOOD_RECORDS_MIN
from ledger.demo.counter import CounterExample, DemoCounterFailed, counter_example, tell_counter
from ledger.demo.rules import DemoRulesFailed, RulesStory, tell_rules
from ledger.demo.scenario import PLATFORMS
from ledger.demo.setup import DEMO_USERS, ensure_people, ensure_platforms, give_console_passwords
from ledger.demo.through_adapters import Feed, PlatformRun, run_platform
from ledger.infra.db import migrate
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service.checkpoints import CheckpointPolicy
from ledger.settings import Settings
from ledger.worker.checkpointer import Checkpointer


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--events-per-platform", default=80, show_default=True,
              type=click.IntRange(GOOD_RECORDS_MIN, 10_000),
              help="good native records per platform, each recorded as one event")
@click.option("--bad-per-platform", default=4, show_default=True, type=click.IntRange(0, 100),
              help="broken native records per platform, quarantined by its adapter")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the API after feeding the events.")
@expected_errors
def demo(host: str, port: int, events_per_platform: int, bad_per_platform: int,
         serve: bool) -> None:
    """Embedded quick start: migrate, register the four platforms, feed them through their
    adapters, serve the API."""
    from ledger.app import create_app

    # The demo is the embedded mode by definition: no broker, events appended in-process.
    settings = dataclasses.replace(Settings.from_environment(), amqp_url=None)
    migrate.upgrade(settings.database_url)
    ledger = build(settings)
    try:
        keys = ensure_platforms(ledger)
        tokens = ensure_people(ledger)
        passwords = give_console_passwords(ledger)
        app = create_app(ledger=ledger)
        feed = Feed(app.test_client(), settings.resident_pepper, ledger.clock,
                    EventSigner(Ed25519PrivateKey.generate()), events_per_platform,
                    bad_per_platform)
        click.echo(f"database: {settings.database_url}")
        click.echo("\nnative records through the four adapters "
                   "(outboxes in var/adapter-PLATFORM.sqlite3):")
        runs = []
        for platform in PLATFORMS:
            try:
                runs.append(run_platform(platform, EventSigner(keys[platform.code]), feed))
            except ArrivalFailed as error:
                fail(str(error), 1)
            _print_run(runs[-1])
        try:
            story = tell_rules(app.test_client(), ledger, tokens)
            counter = tell_counter(app.test_client(), ledger, tokens, ledger.clock())
        except (DemoRulesFailed, DemoCounterFailed) as error:
            fail(str(error), 1)
        _print_summary(runs, tokens, host, port)
        _print_rules(story, host, port)
        _print_counter(counter, host, port)
        checkpointer = Checkpointer(ledger, CheckpointPolicy.for_interval(
            settings.checkpoint_interval_s))
        _print_log(ledger, checkpointer, host, port)
        _print_console(passwords, host, port,
                       counter_example(ledger, settings.resident_pepper))
        if serve:
            checkpointer.run_in_background()
            click.echo(f"\nserving the console and the API on http://{host}:{port}/ "
                       "(Ctrl-C to stop)")
            serve_development(app, host, port)
    finally:
        ledger.close()


def _counted(counter: Counter[str]) -> str:
    """`60 recorded, 1 duplicate, 1 rejected (bad_signature)`: what went in first."""
    order = {"recorded": 0, "duplicate": 1}
    names = sorted(counter, key=lambda name: (order.get(name, 2), name))
    return ", ".join(f"{counter[name]} {name}" for name in names) or "none"


def _print_run(run: PlatformRun) -> None:
    platform = run.platform
    click.echo(f"  {platform.name} {platform.code}: {platform.arrives_as}, {run.route}")
    reasons = f" ({_counted(run.quarantined)})" if run.quarantined else ""
    click.echo(f"      {run.records} records → {run.signed} signed, "
               f"{sum(run.quarantined.values())} quarantined{reasons} → ledger: "
               f"{_counted(run.outcomes)}")


def _print_summary(runs: list[PlatformRun], tokens: dict[str, str], host: str,
                   port: int) -> None:
    base = f"http://{host}:{port}"
    auditor = tokens["demo-auditor"]
    click.echo("\nshown on purpose, per platform: its last event delivered again (the ledger "
               "absorbs the duplicate) and an event signed with a wrong key (refused)")
    click.echo("events posted: " + _counted(sum((run.outcomes for run in runs), Counter())))
    quarantined = sum((run.quarantined for run in runs), Counter())
    click.echo(f"records quarantined by the adapters: {sum(quarantined.values())} "
               f"({_counted(quarantined)}; see `pointsledger adapter quarantine PLATFORM`)")
    click.echo("\nAPI tokens (valid 7 days):")
    for username, token in tokens.items():
        click.echo(f"  {username:16} {token}")
    click.echo("\ntry:")
    click.echo(f"  export TOKEN={auditor}")
    for path in ("/api/v1/ledger/head", "/api/v1/platforms", "/api/v1/ledger/entries?limit=3",
                 "/api/v1/rejections?limit=5"):
        click.echo(f'  curl -s -H "Authorization: Bearer $TOKEN" {base}{path}')
    click.echo(f"  curl -s {base}/api/v1/openapi.json")
    click.echo("  pointsledger verify")


def _print_rules(story: RulesStory, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    click.echo("\nrules (four eyes: demo-risk drafts, demo-risk2 approves):")
    for line in story.lines:
        click.echo(f"  {line}")
    click.echo(f"  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/v1/rulesets")
    click.echo(f"  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/v1/audit")
    if story.resident is not None:
        click.echo(f"  curl -s -H \"Authorization: Bearer $TOKEN\" "
                   f"{base}/api/v1/residents/{story.resident}/credit-terms")
    click.echo("  pointsledger rules list")


def _print_log(ledger: Ledger, checkpointer: Checkpointer, host: str, port: int) -> None:
    """The verifiable log (SPEC §14): its checkpoints signed now, and how an outsider checks."""
    base = f"http://{host}:{port}"
    signed = {row.log: row.size for row in checkpointer.sign_due()}
    click.echo(f"\nthe verifiable log {ledger.settings.log_origin}: checkpoints signed of "
               f"{signed.get(LEDGER_LOG, 'no new')} entries and {signed.get(AUDIT_LOG, 'no new')}"
               " audit events (witnesses: `pointsledger witnesses add`)")
    click.echo(f"  curl -s {base}/api/v1/ledger/checkpoint")
    click.echo(f"  pointsledger audit --url {base} --log-vkey \"$(pointsledger keys ledger "
               "--vkey)\" --state var/audit --token $TOKEN --full")


def _print_console(passwords: dict[str, str], host: str, port: int,
                   example: CounterExample | None) -> None:
    """The console's address and who can sign in: the last thing printed, as the first thing a
    newcomer wants."""
    roles = {username: role for username, role, *_ in DEMO_USERS}
    click.echo("\nthe console (passwords made for this run; run the demo again for new ones):")
    click.echo(f"  open http://{host}:{port}/ and sign in as")
    for username, password in passwords.items():
        click.echo(f"  {username:16} {roles[username]:18} {password}")
    if example is not None:
        # A made-up number of the simulator's, not a person's: the one thing a teller types.
        click.echo(f"  at the counter, as demo-teller, look up the demo resident "
                   f"{example.id_number} ({example.points} points of 沥家园)")


def _print_counter(lines: list[str], host: str, port: int) -> None:
    click.echo("\nat the counter (branch XS-GUALI):")
    for line in lines:
        click.echo(f"  {line}")
    click.echo(f'  curl -s -H "Authorization: Bearer $TOKEN" -H "Accept: text/csv" '
               f'"http://{host}:{port}/api/v1/branches/XS-GUALI/reconciliation?date=YYYY-MM-DD"')
