"""Registry and access commands: db, platforms, keys, branches, users, tokens, residents."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.cli.common import expected_errors, fail, ledger_context, transaction
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.contract.webhook import encode_private_key, encode_public_key, public_key_bytes
from ledger.infra.db import migrate
from ledger.infra.db.models import ROLES
from ledger.infra.ledger_key import load_or_create_ledger_key
from ledger.infra.secret_file import write_secret_file
from ledger.service import access, registry
from ledger.settings import (
    Settings,
    database_url_from_environment,
    ledger_key_file_from_environment,
)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@expected_errors
def db_upgrade() -> None:
    """Apply all migrations (Alembic)."""
    migrate.upgrade(database_url_from_environment())
    click.echo("database is at the latest schema")


@click.group()
def platforms() -> None:
    """Township platforms."""


@platforms.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Display name, e.g. 沥家园.")
@click.option("--township", required=True, help="The town or street that runs it.")
@expected_errors
def platforms_add(code: str, name: str, township: str) -> None:
    """Register a platform."""
    with transaction() as (ledger, session):
        registry.add_platform(session, code, name, township, ledger.clock())
    click.echo(f"platform {code} registered")


@click.group()
def keys() -> None:
    """Platform signing keys (Ed25519, Standard Webhooks v1a)."""


@keys.command("generate")
@click.argument("platform")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File for the private key (whsk_…), created with mode 0600.")
@expected_errors
def keys_generate(platform: str, out: Path) -> None:
    """New key pair: private key to FILE, public key registered."""
    if out.exists():
        fail(f"{out} already exists; refusing to overwrite a private key")
    with transaction() as (ledger, session):
        private_key, registered = registry.generate_key(session, platform, ledger.clock())
        write_secret_file(out, encode_private_key(private_key) + "\n")
    click.echo(registered.key_id)
    click.echo(registered.public_key)


@keys.command("ledger")
@expected_errors
def keys_ledger() -> None:
    """Print the ledger's own public key (whpk_…): adapters verify the ledger's notices with it.

    The private key is POINTSLEDGER_LEDGER_KEY_FILE (generated there once if missing)."""
    key = load_or_create_ledger_key(ledger_key_file_from_environment())
    click.echo(encode_public_key(public_key_bytes(key)))


@keys.command("add")
@click.argument("platform")
@click.option("--public-key", required=True, help="The platform's public key, whpk_….")
@expected_errors
def keys_add(platform: str, public_key: str) -> None:
    """Register a platform's public key; prints the key id."""
    with transaction() as (ledger, session):
        registered = registry.add_key(session, platform, public_key, ledger.clock())
    click.echo(registered.key_id)


@keys.command("revoke")
@click.argument("key_id")
@expected_errors
def keys_revoke(key_id: str) -> None:
    """Refuse events signed with this key from now on (by signature timestamp)."""
    with transaction() as (ledger, session):
        key = registry.revoke_key(session, key_id, ledger.clock())
        assert key.revoked_at is not None
        click.echo(f"key {key_id} revoked at {key.revoked_at.isoformat()}")


@click.group()
def branches() -> None:
    """Bank branches."""


@branches.command("add")
@click.argument("code")
@click.option("--name", required=True)
@expected_errors
def branches_add(code: str, name: str) -> None:
    """Register a branch."""
    with transaction() as (ledger, session):
        access.add_branch(session, code, name, ledger.clock())
    click.echo(f"branch {code} registered")


@click.group()
def users() -> None:
    """Users and their roles."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--branch", default=None, help="Branch code (tellers and supervisors).")
@expected_errors
def users_add(username: str, role: str, branch: str | None) -> None:
    """Create a user."""
    with transaction() as (ledger, session):
        access.add_user(session, username, role, branch, ledger.clock())
    click.echo(f"user {username} ({role}) created")


@click.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.argument("username")
@click.option("--ttl-days", default=access.TOKEN_TTL_DAYS_DEFAULT, show_default=True, type=int)
@expected_errors
def tokens_create(username: str, ttl_days: int) -> None:
    """Print a new API token once; only its hash is stored."""
    with transaction() as (ledger, session):
        token, _ = access.create_token(session, username, ledger.clock(), ttl_days)
    click.echo(token)


@click.group()
def residents() -> None:
    """Residents."""


@residents.command("pseudonym")
@click.argument("id_number")
@expected_errors
def residents_pseudonym(id_number: str) -> None:
    """Print the resident pseudonym of an ID number."""
    settings = Settings.from_environment()
    try:
        click.echo(pseudonym(id_number, settings.resident_pepper))
    except InvalidIdNumber as error:
        fail(f"invalid ID number: {error}")


@click.command("verify")
@expected_errors
def verify() -> None:
    """Recompute the ledger's hash chain and the audit trail's; exit 1 naming the first bad
    seq."""
    from ledger.service.audit_trail import verify_audit_trail
    from ledger.service.chain_audit import audit_chain

    with ledger_context() as ledger, ledger.sessions() as session:
        report = audit_chain(session)
        audit = verify_audit_trail(session)
    if not report.intact:
        fail(f"chain broken at seq {report.first_bad_seq}: {report.problem}", code=1)
    click.echo(f"chain intact: {report.entries} entries, head {report.head_hash}")
    if not audit.intact:
        fail(f"audit trail broken at seq {audit.first_bad_seq}: {audit.problem}", code=1)
    click.echo(f"audit trail intact: {audit.events} events")


COMMANDS = (db, platforms, keys, branches, users, tokens, residents, verify)
