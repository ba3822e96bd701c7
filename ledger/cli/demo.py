"""`pointsledger demo`: the embedded quick start (SPEC §3)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import build
from ledger.cli.common import expected_errors
from ledger.contract.signing import EventSigner
from ledger.demo.scenario import plan_events
from ledger.demo.setup import ensure_people, ensure_platforms, next_seqs
from ledger.infra.db import migrate
from ledger.settings import Settings

OUTCOME_BY_STATUS = {201: "recorded", 200: "duplicate"}


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--events-per-platform", default=80, show_default=True,
              type=click.IntRange(1, 10_000))
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the API after feeding the events.")
@expected_errors
def demo(host: str, port: int, events_per_platform: int, serve: bool) -> None:
    """Embedded quick start: migrate, register the four platforms, feed events, serve the API."""
    from ledger.api import create_app

    # The demo is the embedded mode by definition: no broker, events appended in-process.
    settings = dataclasses.replace(Settings.from_environment(), amqp_url=None)
    migrate.upgrade(settings.database_url)
    ledger = build(settings)
    try:
        signers = {code: EventSigner(key) for code, key in ensure_platforms(ledger).items()}
        forger = EventSigner(Ed25519PrivateKey.generate())
        tokens = ensure_people(ledger)
        app = create_app(ledger=ledger)
        client = app.test_client()
        outcomes: Counter[str] = Counter()
        for planned in plan_events(settings.resident_pepper, next_seqs(ledger),
                                   events_per_platform, ledger.clock()):
            signer = forger if planned.note == "bad_signature" else signers[planned.platform]
            signed = signer.sign(planned.event)
            response = client.post("/api/v1/events", data=signed.body,
                                   headers={**signed.headers,
                                            "content-type": "application/json"})
            body = response.get_json(silent=True) or {}
            outcomes[OUTCOME_BY_STATUS.get(response.status_code,
                                           f"rejected ({body.get('code', response.status)})")] += 1
        _print_summary(outcomes, tokens, settings.database_url, host, port)
        if serve:
            click.echo(f"\nserving the API on http://{host}:{port}/ (Ctrl-C to stop)")
            app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        ledger.close()


def _print_summary(outcomes: Counter[str], tokens: dict[str, str], database_url: str,
                   host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    auditor = tokens["demo-auditor"]
    click.echo(f"database: {database_url}")
    click.echo("events posted: " + ", ".join(f"{count} {name}"
                                             for name, count in sorted(outcomes.items())))
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
