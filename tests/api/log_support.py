"""Helpers for the verifiable-log tests (SPEC §14): signing checkpoints as the checkpointer does,
and checking what the API answers the way an outside auditor would, with ledger.contract and
the keys alone."""

from __future__ import annotations

from typing import Any

import rfc8785
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.checkpoint import Checkpoint, open_checkpoint
from ledger.contract.merkle import leaf_hash
from ledger.contract.note_keys import Verifier
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.service.checkpoints import CheckpointPolicy, log_origin, log_signer
from ledger.worker.checkpointer import Checkpointer
from tests.support import PlatformFixture

API = "/api/v1"


def sign_checkpoints(ledger: Ledger) -> list[int]:
    """Sign each log's checkpoint at once, as `pointsledger checkpoints run` does when due;
    the sizes signed."""
    return [row.size for row in Checkpointer(ledger, CheckpointPolicy(0, 0)).sign_due()]


def record(ledger: Ledger, platform: PlatformFixture, count: int) -> None:
    outcomes = ledger.ingestor.ingest([platform.delivery() for _ in range(count)])
    assert [outcome.status.value for outcome in outcomes] == ["recorded"] * count


def vkey(ledger: Ledger, log: str = LEDGER_LOG) -> str:
    """What `pointsledger keys ledger --vkey [--log audit]` prints."""
    return log_signer(ledger.settings.log_origin, log, ledger.ledger_key()).vkey()


def opened(ledger: Ledger, note: str, log: str = LEDGER_LOG) -> Checkpoint:
    """The checkpoint of a published note, checked against the log's key and origin only."""
    checkpoint, _ = open_checkpoint(note, log_origin(ledger.settings.log_origin, log),
                                    Verifier.from_vkey(vkey(ledger, log)))
    return checkpoint


def leaf_hashes(client: FlaskClient, headers: dict[str, str], log: str = LEDGER_LOG
                ) -> list[bytes]:
    """Every leaf hash of a log as an auditor recomputes it from the API's listing: SHA-256 of
    0x00 and the JCS bytes of each document without its entry_hash."""
    listing = f"{API}/ledger/entries" if log == LEDGER_LOG else f"{API}/audit"
    documents: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(listing, query_string={"after": after, "limit": 1000},
                          headers=headers).json
        documents.extend(page["items"])
        if page["next"] is None:
            break
        after = page["next"]
    return [leaf_hash(bytes(rfc8785.dumps({key: value for key, value in document.items()
                                           if key != "entry_hash"})))
            for document in documents]
