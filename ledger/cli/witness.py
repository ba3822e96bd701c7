"""`pointsledger witness keygen|serve`: the witness a township or the regulator runs (SPEC §14).

It needs nothing of the ledger's database or web application: only `ledger.witness`, which
stands on the contract and the shared runtime.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli.metrics_option import metrics_listen_option, start_metrics
from ledger.cli.usage import EXIT_FAILURE, fail, listen_address
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.note_keys import KeyMalformed
from ledger.contract.witness_protocol import ADD_CHECKPOINT_PATH
from ledger.runtime.secret_file import write_secret_file
from ledger.witness.decision import LogKeys, log_keys
from ledger.witness.server import WitnessServer
from ledger.witness.service import Witness
from ledger.witness.state import LogStates, StateUnusable

log = logging.getLogger(__name__)


@click.group("witness")
def witness() -> None:
    """Cosign a log's checkpoints only while the log stays append-only (C2SP tlog-witness)."""


@witness.command("keygen")
@click.option("--name", required=True, help="the witness's name, e.g. witness.example.org/w1")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the private key file to create (mode 0600; never overwritten)")
def keygen(name: str, out: Path) -> None:
    """Make a witness's Ed25519 cosignature key; print its verifier key (vkey)."""
    try:
        signer = CosignatureSigner(name, Ed25519PrivateKey.generate())
    except KeyMalformed as error:
        fail(f"--name: {error}")
    try:
        write_secret_file(out, signer.skey() + "\n")
    except FileExistsError:
        fail(f"{out} exists already: a key file is never overwritten, choose another --out")
    except OSError as error:
        fail(f"cannot write the key file {out}: {error.strerror or error}")
    click.echo(signer.vkey())


def _signer(key_file: Path) -> CosignatureSigner:
    try:
        text = key_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the key file {key_file}: {type(error).__name__}")
    try:
        return CosignatureSigner.from_skey(text)
    except KeyMalformed:
        # The key's own text is never repeated: it is a secret.
        fail(f"the key file {key_file} does not hold a witness key (pointsledger witness keygen)")


def _logs(vkeys: tuple[str, ...]) -> LogKeys:
    try:
        return log_keys(vkeys)
    except KeyMalformed as error:
        fail(f"--log-vkey: {error}")


def _states(directory: Path, logs: LogKeys) -> LogStates:
    try:
        return LogStates(directory, logs)
    except StateUnusable as error:
        fail(str(error))


@witness.command("serve")
@click.option("--key-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the witness's private key (pointsledger witness keygen)")
@click.option("--log-vkey", "log_vkeys", required=True, multiple=True, metavar="VKEY",
              help="a log's verifier key, its name the log's origin (repeat for more logs)")
@click.option("--state", "state_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="where the last checkpoint cosigned of each log is kept")
@click.option("--listen", required=True, metavar="HOST:PORT", help="where logs reach it")
@metrics_listen_option
def serve(key_file: Path, log_vkeys: tuple[str, ...], state_dir: Path, listen: str,
          metrics_listen: tuple[str, int] | None) -> None:
    """Answer POST /add-checkpoint until SIGTERM or SIGINT (then exit 0)."""
    signer = _signer(key_file)
    logs = _logs(log_vkeys)
    address = listen_address(listen)
    states = _states(state_dir, logs)
    start_metrics(metrics_listen)
    try:
        server = WitnessServer(address, Witness(signer, logs, states))
    except OSError as error:
        fail(f"cannot listen on {listen}: {error.strerror or error}", EXIT_FAILURE)
    host, port = server.server_address[:2]
    log.info("witness %s answers http://%s:%d%s for %s", signer.vkey(), host, port,
             ADD_CHECKPOINT_PATH, ", ".join(sorted(logs)))
    _serve_until_signalled(server)
    log.info("witness stopped")


def _serve_until_signalled(server: WitnessServer) -> None:
    def request_stop(_signal_number: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, which runs on this very thread: ask
        # from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {number: signal.signal(number, request_stop)
                for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for number, handler in previous.items():
            signal.signal(number, handler)
