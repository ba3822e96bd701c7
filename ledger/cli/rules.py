"""`pointsledger rules …`: rule sets for risk officers who prefer a terminal (SPEC §8).

Reading (list, show, diff, default) needs only the database. Changing (draft, submit, approve,
reject, simulate) acts as a user, so four eyes hold on the terminal too: the officer's own API
token is read from POINTSLEDGER_TOKEN (the environment, never an argument that shell history
or `ps` would show), and the same rules apply as over HTTP.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from ledger.cli.common import expected_errors, fail, ledger_context, transaction
from ledger.service import access
from ledger.service.rules import documents, lifecycle, simulations
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.lifecycle import Actor

TOKEN_VARIABLE = "POINTSLEDGER_TOKEN"  # noqa: S105 - the variable's name, not a secret
DOCUMENT_SIZE_MAX_BYTES = 64 * 1024


@click.group()
def rules() -> None:
    """Rule sets: contribution to credit terms, under four eyes."""


def _echo_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _actor(session: Session, now: datetime) -> Actor:
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        fail(f"set {TOKEN_VARIABLE} to your API token (`pointsledger tokens create USERNAME`): "
             "changes to rules are made as a user")
    principal = access.authenticate(session, token, now)
    if principal is None:
        fail(f"{TOKEN_VARIABLE} is not a valid token, or it has expired")
    return Actor(principal.username, principal.role)


@rules.command("default")
def rules_default() -> None:
    """Print the default rule set for the four towns (a starting point to draft)."""
    _echo_json(DEFAULT_RULESET)


@rules.command("list")
@expected_errors
def rules_list() -> None:
    """Every version with its status, one line each."""
    with ledger_context() as ledger, ledger.sessions() as session:
        items, _ = documents.list_versions(session, ledger.clock(), 0, 10**9)
    for item in items:
        marks = " (active)" if item["active"] else ""
        click.echo(f"{item['version']:>4}  {item['status']:<10} {item['author']:<16} "
                   f"{item['name']}{marks}")


@rules.command("show")
@click.argument("version", type=int, required=False)
@expected_errors
def rules_show(version: int | None) -> None:
    """Show VERSION (default: the active one) with its document and history, as JSON."""
    with ledger_context() as ledger, ledger.sessions() as session:
        document = (documents.show_active(session, ledger.clock()) if version is None
                    else documents.show_version(session, version, ledger.clock()))
    _echo_json(document)


@rules.command("diff")
@click.argument("version", type=int)
@click.option("--against", type=int, required=True, help="The version to compare with.")
@expected_errors
def rules_diff(version: int, against: int) -> None:
    """What changes from version AGAINST to VERSION, one path per line."""
    with ledger_context() as ledger, ledger.sessions() as session:
        result = documents.diff_versions(session, version, against, ledger.clock())
    if not result["changes"]:
        click.echo(f"versions {against} and {version} have the same document")
    for change in result["changes"]:
        click.echo(change["line"])


@rules.command("draft")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--comment", required=True, help="Why: kept in the audit trail.")
@click.option("--replaces", type=int, help="A draft of yours that this version replaces.")
@expected_errors
def rules_draft(file: Path, comment: str, replaces: int | None) -> None:
    """Draft a new version from the JSON document in FILE (`-` reads standard input)."""
    document = _read_document(file)
    with transaction() as (ledger, session):
        version = lifecycle.draft(session, _actor(session, ledger.clock()), document, comment,
                                  ledger.clock(), replaces=replaces)
    click.echo(f"version {version} drafted")


def _read_document(file: Path) -> object:
    try:
        if str(file) == "-":
            text = sys.stdin.read(DOCUMENT_SIZE_MAX_BYTES + 1)
        else:
            text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {error}")
    if len(text.encode("utf-8")) > DOCUMENT_SIZE_MAX_BYTES:
        fail(f"{file} is larger than {DOCUMENT_SIZE_MAX_BYTES} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{file} is not JSON: {error}")


@rules.command("submit")
@click.argument("version", type=int)
@click.option("--comment", required=True, help="Why: kept in the audit trail.")
@expected_errors
def rules_submit(version: int, comment: str) -> None:
    """Submit your draft VERSION for approval."""
    with transaction() as (ledger, session):
        lifecycle.submit(session, _actor(session, ledger.clock()), version, comment,
                         ledger.clock())
    click.echo(f"version {version} submitted")


@rules.command("approve")
@click.argument("version", type=int)
@click.option("--comment", required=True, help="Why: kept in the audit trail.")
@click.option("--effective-from", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]),
              help="When it takes effect (RFC 3339 with offset; default now).")
@expected_errors
def rules_approve(version: int, comment: str, effective_from: datetime | None) -> None:
    """Approve VERSION (another officer's, simulated against the active version)."""
    with transaction() as (ledger, session):
        lifecycle.approve(session, _actor(session, ledger.clock()), version, comment,
                          ledger.clock(), effective_from)
    click.echo(f"version {version} approved")


@rules.command("reject")
@click.argument("version", type=int)
@click.option("--comment", required=True, help="Why: kept in the audit trail.")
@expected_errors
def rules_reject(version: int, comment: str) -> None:
    """Reject a draft or submitted VERSION."""
    with transaction() as (ledger, session):
        lifecycle.reject(session, _actor(session, ledger.clock()), version, comment,
                         ledger.clock())
    click.echo(f"version {version} rejected")


@rules.command("simulate")
@click.argument("version", type=int)
@expected_errors
def rules_simulate(version: int) -> None:
    """Simulate VERSION against the active one over every resident; print its figures."""
    with ledger_context() as ledger:
        with ledger.sessions() as session:
            actor = _actor(session, ledger.clock())
        _echo_json(simulations.simulate(ledger.sessions, actor, version, ledger.clock()))


COMMANDS = (rules,)
