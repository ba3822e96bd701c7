"""`pointsledger audit` (SPEC §14): hold the bank's log to every history it has shown before."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from ledger.outside_audit.auditor import AuditRequest, run_audit
from ledger.outside_audit.errors import AuditFailed, ServerError, StateNotKept, UsageError
from ledger.runtime.progress import progress_bar

EXIT_FAILURE = 1
EXIT_USAGE = 2
TOKEN_ENVIRONMENT_VARIABLE = "POINTSLEDGER_AUDIT_TOKEN"  # noqa: S105 (a name, not a token)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("audit")
@click.option("--url", required=True, metavar="BASE",
              help="the ledger's base URL, e.g. https://ledger.example (its API is under /api/v1)")
@click.option("--log-vkey", required=True, metavar="VKEY",
              help="the log's note verifier key (`pointsledger keys ledger --vkey`); its name "
                   "is the log's origin, and a name ending in /audit means the audit trail's log")
@click.option("--state", "state_dir", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="where the checkpoint of the previous run is kept (created if missing)")
@click.option("--witness-vkey", "witness_vkeys", multiple=True, metavar="VKEY",
              help="a witness's verifier key; repeat for each witness")
@click.option("--quorum", type=click.IntRange(min=0), metavar="K",
              help="how many of the given witnesses must have cosigned  [default: all of them]")
@click.option("--token", envvar=TOKEN_ENVIRONMENT_VARIABLE, metavar="T",
              help=f"an auditor's API token, needed by --full (or ${TOKEN_ENVIRONMENT_VARIABLE}, "
                   f"which keeps it out of the process list)")
@click.option("--full", is_flag=True,
              help="also read every entry: recompute the root and re-verify every platform "
                   "signature against the platforms' keys as they were")
def audit(url: str, log_vkey: str, state_dir: Path, witness_vkeys: tuple[str, ...],
          quorum: int | None, token: str | None, full: bool) -> None:
    """Check the log's latest checkpoint against the keys given and the checkpoint kept in DIR
    from the previous run, then keep it.

    Exit 0 when all holds, 1 naming the first failure (the kept checkpoint is then left as it
    was), 2 for a usage error.
    """
    request = AuditRequest(url, log_vkey, state_dir, witness_vkeys, quorum, token or None, full)
    try:
        # Only --full reports progress (reading every entry is the long part): without it
        # nothing is drawn.
        with progress_bar("entries read") as progress:
            report = run_audit(request, progress=progress)
    except UsageError as error:
        _fail(str(error), EXIT_USAGE)
    except (AuditFailed, ServerError, StateNotKept) as error:
        _fail(str(error), EXIT_FAILURE)
    for line in report.lines():
        click.echo(line)
