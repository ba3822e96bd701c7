"""Registry and access commands: db, platforms, keys, branches, users, tokens, residents.

Every change is in the audit trail (SPEC §12) with the actor `cli:<account>`: the operating
system account that ran the command (and, under sudo, who called sudo). Whoever holds the
database URL can write anything, so this names the path a change took rather than proving who
made it; people who change things over HTTP are named by their token.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import click

from ledger.cli.common import expected_errors, fail, ledger_context, transaction
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.contract.webhook import encode_private_key, encode_public_key, public_key_bytes
from ledger.domain.entry import rfc3339_utc
from ledger.domain.roles import ROLES
from ledger.infra.db import migrate
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.infra.ledger_key import load_or_create_ledger_key
from ledger.runtime.secret_file import write_secret_file
from ledger.service import access, administration
from ledger.service.checkpoints import LOGS, log_signer
from ledger.service.passwords import PASSWORD_LENGTH_MAX
from ledger.settings import (
    Settings,
    database_url_from_environment,
    ledger_key_file_from_environment,
    log_origin_from_environment,
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
        administration.add_platform(session, cli_actor(), code, name, township, ledger.clock())
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
        private_key, registered = administration.generate_key(session, cli_actor(), platform,
                                                              ledger.clock())
        write_secret_file(out, encode_private_key(private_key) + "\n")
    click.echo(registered.key_id)
    click.echo(registered.public_key)


@keys.command("ledger")
@click.option("--vkey", "as_vkey", is_flag=True,
              help="Print the note verifier key of the log instead (SPEC §14).")
@click.option("--log", "log_name", type=click.Choice(LOGS), default=LEDGER_LOG,
              show_default=True, help="With --vkey: the ledger's log or the audit trail's.")
@expected_errors
def keys_ledger(as_vkey: bool, log_name: str) -> None:
    """Print the ledger's own public key (whpk_…): adapters verify the ledger's notices with it.

    With --vkey, the same key as the note verifier key `<origin>+<key id>+<base64>` under the
    log's name (POINTSLEDGER_LOG_ORIGIN, or `<origin>/audit` for the audit trail's log), which
    witnesses and auditors use to check the log's checkpoints. The private key is
    POINTSLEDGER_LEDGER_KEY_FILE (generated there once if missing)."""
    if as_vkey:
        origin = log_origin_from_environment()
    key = load_or_create_ledger_key(ledger_key_file_from_environment())
    if as_vkey:
        click.echo(log_signer(origin, log_name, key).vkey())
        return
    click.echo(encode_public_key(public_key_bytes(key)))


@keys.command("add")
@click.argument("platform")
@click.option("--public-key", required=True, help="The platform's public key, whpk_….")
@expected_errors
def keys_add(platform: str, public_key: str) -> None:
    """Register a platform's public key; prints the key id."""
    with transaction() as (ledger, session):
        registered = administration.add_key(session, cli_actor(), platform, public_key,
                                            ledger.clock())
    click.echo(registered.key_id)


@keys.command("revoke")
@click.argument("key_id")
@click.option("--compromised", is_flag=True,
              help="The key leaked: refuse everything received from now on, whatever its "
                   "signature's timestamp claims.")
@expected_errors
def keys_revoke(key_id: str, compromised: bool) -> None:
    """Retire a key (rotation): what it signed before now still counts for the grace of
    POINTSLEDGER_RETIRED_KEY_GRACE_S; or, with --compromised, refuse all it signs from now on."""
    with transaction() as (ledger, session):
        key = administration.revoke_key(session, cli_actor(), key_id, ledger.clock(),
                                        compromised=compromised)
        grace = timedelta(seconds=ledger.settings.retired_key_grace_s)
    if key.compromised_at is not None:
        click.echo(f"key {key_id} declared compromised at {rfc3339_utc(key.compromised_at)}: "
                   "nothing it signs is accepted from now on, whatever its timestamp")
    else:
        assert key.revoked_at is not None
        click.echo(f"key {key_id} retired at {rfc3339_utc(key.revoked_at)}: events it signed "
                   f"before then are accepted until {rfc3339_utc(key.revoked_at + grace)}, "
                   "later ones are refused")


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
        administration.add_branch(session, cli_actor(), code, name, ledger.clock())
    click.echo(f"branch {code} registered")


@click.group()
def users() -> None:
    """Users and their roles."""


@users.command("list")
@expected_errors
def users_list() -> None:
    """Every user as a JSON line, disabled ones too (users are never deleted)."""
    with ledger_context() as ledger, ledger.sessions() as session:
        for document in _every_page(lambda after: access.list_users(session, after)):
            _echo_json_line(document)


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--branch", default=None, help="Branch code (tellers and supervisors).")
@click.option("--platform", default=None, help="Platform code (platform operators).")
@expected_errors
def users_add(username: str, role: str, branch: str | None, platform: str | None) -> None:
    """Create a user."""
    with transaction() as (ledger, session):
        administration.add_user(session, cli_actor(), username, role, branch, platform,
                                ledger.clock())
    click.echo(f"user {username} ({role}) created")


@users.command("disable")
@click.argument("username")
@expected_errors
def users_disable(username: str) -> None:
    """Disable a user: every token of theirs is refused from the next request on."""
    with transaction() as (ledger, session):
        changed = administration.set_disabled(session, cli_actor(), username, True,
                                              ledger.clock())
    click.echo(f"user {username} disabled: their tokens are refused from now on" if changed
               else f"user {username} was already disabled")


@users.command("enable")
@click.argument("username")
@expected_errors
def users_enable(username: str) -> None:
    """Enable a disabled user again (their tokens that have not expired or been revoked work
    again)."""
    with transaction() as (ledger, session):
        changed = administration.set_disabled(session, cli_actor(), username, False,
                                              ledger.clock())
    click.echo(f"user {username} enabled" if changed else f"user {username} was not disabled")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--branch", default=None, help="Branch code (tellers and supervisors).")
@click.option("--platform", default=None, help="Platform code (platform operators).")
@expected_errors
def users_set_role(username: str, role: str, branch: str | None, platform: str | None) -> None:
    """Change a user's role (with its branch or platform); their tokens keep working under the
    new role, and their console sessions end."""
    with transaction() as (ledger, session):
        changed = administration.set_role(session, cli_actor(), username, role, branch,
                                          platform, ledger.clock())
    where = f" of branch {branch}" if branch else f" of platform {platform}" if platform else ""
    click.echo(f"user {username} is now {role}{where}" if changed
               else f"user {username} already is {role}{where}")


@users.command("set-password")
@click.argument("username")
@expected_errors
def users_set_password(username: str) -> None:
    """Set a console password: the first line of standard input when it is not a terminal,
    else asked for twice without echo."""
    password = _new_password()
    with transaction() as (ledger, session):
        administration.set_password(session, cli_actor(), username, password, ledger.clock())
    click.echo(f"console password of {username} set")


def _new_password() -> str:
    stdin = sys.stdin  # CliRunner replaces it, as a pipe does
    if stdin.isatty():
        entered: str = click.prompt("New password", hide_input=True,
                                    confirmation_prompt="Repeat it", err=True)
        return entered
    # Only the line ending goes: spaces at either end may be part of a passphrase.
    # Read no more than a password can hold (with one more character, for the policy to
    # refuse a longer one), whatever is piped in.
    line = stdin.readline(PASSWORD_LENGTH_MAX + 1).rstrip("\r\n")
    if not line:
        fail("no password on standard input: give it as the first line")
    return line


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
        token, _ = administration.create_token(session, cli_actor(), username, ttl_days,
                                               ledger.clock())
    click.echo(token)


@tokens.command("list")
@click.argument("username", required=False)
@expected_errors
def tokens_list(username: str | None) -> None:
    """Tokens (of one user) as JSON lines, never their secret."""
    with ledger_context() as ledger, ledger.sessions() as session:
        for document in _every_page(lambda after: access.list_tokens(session, username,
                                                                     after)):
            _echo_json_line(document)


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**63 - 1))
@expected_errors
def tokens_revoke(token_id: int) -> None:
    """Refuse the token from the next request on."""
    with transaction() as (ledger, session):
        token, username = administration.revoke_token(session, cli_actor(), token_id,
                                                      ledger.clock())
        assert token.revoked_at is not None
    click.echo(f"token {token_id} of {username} revoked at {rfc3339_utc(token.revoked_at)}")


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
    """Recompute the ledger's hash chain, its Merkle tree and the audit trail's chain; exit 1
    naming the first bad seq."""
    from ledger.runtime.progress import progress_bar
    from ledger.service.audit_trail import verify_audit_trail
    from ledger.service.chain_audit import ChainFault, audit_chain

    with ledger_context() as ledger, ledger.sessions() as session:
        with progress_bar("ledger entries") as progress:
            report = audit_chain(session, progress)
        with progress_bar("audit trail events") as progress:
            audit = verify_audit_trail(session, progress)
    if report.fault is ChainFault.TREE:
        click.echo(f"chain intact: {report.entries} entries, head {report.head_hash}")
        fail(f"Merkle tree broken at seq {report.first_bad_seq}: {report.problem}", code=1)
    if not report.intact:
        fail(f"chain broken at seq {report.first_bad_seq}: {report.problem}", code=1)
    click.echo(f"chain intact: {report.entries} entries, head {report.head_hash}")
    click.echo(f"Merkle tree intact: size {report.entries}, root {report.root}")
    if not audit.intact:
        fail(f"audit trail broken at seq {audit.first_bad_seq}: {audit.problem}", code=1)
    click.echo(f"audit trail intact: {audit.events} events")


COMMANDS = (db, platforms, keys, branches, users, tokens, residents, verify)


def _every_page(read: Callable[[int], tuple[list[dict[str, Any]], int | None]]
                ) -> Iterator[dict[str, Any]]:
    after: int | None = 0
    while after is not None:
        items, after = read(after)
        yield from items


def _echo_json_line(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


@cache
def cli_actor() -> str:
    """`cli:<account>`, the account as the operating system knows the process's user (not
    from USER or LOGNAME, which anyone sets), followed by what sudo says of who called it. That
    part comes from the environment, so it only ever adds to the account, never replaces it."""
    uid = os.getuid()
    try:
        account = pwd.getpwuid(uid).pw_name
    except KeyError:  # a container's user may have no entry in /etc/passwd
        account = f"uid{uid}"
    sudo_user = os.environ.get("SUDO_USER")
    actor = f"cli:{account}" + (f"(sudo:{sudo_user})" if sudo_user else "")
    return actor[:administration.ACTOR_LENGTH_MAX]
