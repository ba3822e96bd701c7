"""One audit of a log from outside the bank (SPEC §14): the latest checkpoint's signature, its
witnesses, its consistency with the checkpoint kept from the previous run and, with `full`,
every entry; then the checkpoint is kept for the next run. When anything fails, the kept
checkpoint stays as it was: the next run holds the log to the same history again.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ledger.contract.checkpoint import Checkpoint
from ledger.outside_audit import documents
from ledger.outside_audit.checkpoints import (
    Cosignature,
    TrustedKeys,
    check_consistency,
    open_latest,
)
from ledger.outside_audit.documents import rfc3339
from ledger.outside_audit.entries import EntriesChecked, check_entries
from ledger.outside_audit.errors import AuditFailed, ServerError, ServerRefused, UsageError
from ledger.outside_audit.event_signatures import KeyHistory
from ledger.outside_audit.http_client import (
    LIST_SIZE_MAX_BYTES,
    NOTE_SIZE_MAX_BYTES,
    PROOF_SIZE_MAX_BYTES,
    LogClient,
)
from ledger.outside_audit.kept_checkpoints import CheckpointKeeper, KeptCheckpoint
from ledger.outside_audit.signature_pool import SignatureChecks, workers_for
from ledger.runtime.progress import ProgressCallback, ignore_progress

PLATFORMS_PATH = "/api/v1/platforms"
# Platforms and their keys are a handful; a server that pages them without end is broken.
LIST_PAGES_MAX = 100


@dataclass(frozen=True)
class LogPaths:
    checkpoint: str
    consistency: str
    entries: str


LEDGER_PATHS = LogPaths("/api/v1/ledger/checkpoint", "/api/v1/ledger/proofs/consistency",
                        "/api/v1/ledger/entries")
AUDIT_TRAIL_PATHS = LogPaths("/api/v1/audit/checkpoint", "/api/v1/audit/proofs/consistency",
                             "/api/v1/audit")


@dataclass(frozen=True)
class AuditRequest:
    url: str
    log_vkey: str
    state_dir: Path
    witness_vkeys: tuple[str, ...] = ()
    quorum: int | None = None  # None: every witness given
    token: str | None = None
    full: bool = False
    workers: int | None = None  # processes verifying signatures; None: by the log's size


@dataclass(frozen=True)
class AuditReport:
    origin: str
    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]
    witnesses_given: int
    quorum: int
    previous: KeptCheckpoint | None
    entries: EntriesChecked | None

    def lines(self) -> list[str]:
        """The short summary the command prints."""
        cosigned = ", ".join(
            f"{c.witness} at {rfc3339(datetime.fromtimestamp(c.timestamp_s, UTC))}"
            for c in self.cosignatures) or "none"
        previous = ("none: first run, checkpoint kept" if self.previous is None
                    else f"consistent with {self.previous.described()}")
        entries = ("not read (without --full)" if self.entries is None
                   else f"{self.entries.entries} checked against the root, "
                        f"{self.entries.signatures} platform signatures verified")
        return [f"audit passed: {self.origin}",
                f"size: {self.checkpoint.size}",
                f"root: {base64.b64encode(self.checkpoint.root_hash).decode('ascii')}",
                f"cosigned by: {cosigned} ({len(self.cosignatures)} of {self.witnesses_given} "
                f"witnesses given, quorum {self.quorum})",
                f"previous: {previous}",
                f"entries: {entries}"]


def run_audit(request: AuditRequest,
              now: Callable[[], datetime] = lambda: datetime.now(UTC),
              progress: ProgressCallback = ignore_progress) -> AuditReport:
    """The report of an audit that passed; AuditFailed, ServerError, StateNotKept or
    UsageError (each with its one sentence) otherwise. With `full`, `progress` is told how
    many of the checkpoint's entries have been read."""
    keys = TrustedKeys.parse(request.log_vkey, request.witness_vkeys, request.quorum)
    if request.full and not request.token:
        raise UsageError("--full reads every entry, which needs an auditor's token (--token)")
    client = LogClient(request.url, request.token)
    paths = AUDIT_TRAIL_PATHS if keys.is_audit_trail else LEDGER_PATHS
    with CheckpointKeeper(request.state_dir, keys.origin) as keeper:
        kept = keeper.load(keys.log)
        latest = open_latest(client.text(paths.checkpoint, NOTE_SIZE_MAX_BYTES), keys)
        check_consistency(kept, latest.checkpoint,
                          partial(_consistency_proof, client, paths.consistency, kept))
        entries = (_check_entries(client, paths, keys, latest.checkpoint, request.workers,
                                  progress) if request.full else None)
        keeper.keep(latest.note, now())
    return AuditReport(keys.origin, latest.checkpoint, latest.cosignatures,
                       len(keys.witnesses), keys.quorum, kept, entries)


def _consistency_proof(client: LogClient, path: str, kept: KeptCheckpoint | None,
                       first: int, second: int) -> list[bytes]:
    """The server's proof; a server that refuses to give one cannot show it is consistent."""
    try:
        document = client.json(path, {"first": first, "second": second},
                               PROOF_SIZE_MAX_BYTES, authenticated=False)
    except ServerRefused as error:
        if kept is not None and 400 <= error.status < 500:
            raise AuditFailed(f"not consistent with {kept.described()}: {error}") from None
        raise
    return documents.consistency_hashes(document, first, second)


def _check_entries(client: LogClient, paths: LogPaths, keys: TrustedKeys,
                   checkpoint: Checkpoint, workers: int | None,
                   progress: ProgressCallback) -> EntriesChecked:
    if keys.is_audit_trail:  # the ledger's own record: nothing in it is a platform's to sign
        return check_entries(client, paths.entries, checkpoint, None, progress)
    history = key_history(client)
    with SignatureChecks(history, workers_for(checkpoint.size) if workers is None
                         else workers) as signatures:
        return check_entries(client, paths.entries, checkpoint, signatures, progress)


def key_history(client: LogClient) -> KeyHistory:
    """Every registered platform's keys, retired and compromised ones too."""
    records = []
    for platform in _every_item(client, PLATFORMS_PATH):
        code = documents.platform_code(platform, PLATFORMS_PATH)
        path = f"{PLATFORMS_PATH}/{urllib.parse.quote(code, safe='')}/keys"
        for item in _every_item(client, path):
            record = documents.key_record(item, path)
            if record.platform != code:
                raise ServerError(f"the server lists the key {record.key_id} of "
                                  f"{record.platform!r} among the keys of {code!r}")
            records.append(record)
    return KeyHistory(records)


def _every_item(client: LogClient, path: str) -> Iterator[dict[str, Any]]:
    """Every item of a listing, page after page (most listings have one)."""
    query: dict[str, int | str] = {}
    for _ in range(LIST_PAGES_MAX):
        page = documents.page(client.json(path, query, LIST_SIZE_MAX_BYTES,
                                          authenticated=True), path)
        yield from page.items
        if page.next is None:
            return
        query = {"after": page.next}
    raise ServerError(f"the server's GET {path} goes on for more than {LIST_PAGES_MAX} pages")
