"""`audit --full`: every entry up to the checkpoint's size, read page by page, hashed into the
Merkle tree whose root must be the checkpoint's, its hash chain followed, and each platform
event's signature checked again (SPEC §6, §14).

An entry's leaf hash is SHA-256(0x00 ‖ JCS(the entry as served, without its `entry_hash`)),
its leaf index `seq` − 1; the chain is entry_hash[n] = SHA-256(entry_hash[n−1] ‖ leaf[n]) from 32
zero bytes. Only the tree's right border is held (`Frontier`), one page at a time: memory stays
flat whatever the log's size.

Failures are named in the order of the checks, not of the seq: the root first (if it differs,
the entries served are not the log the checkpoint commits to, and the first link of the chain
that breaks, if one does, says where), then the chain, then the signatures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import rfc8785

from ledger.contract.canonical_json import canonical_json
from ledger.contract.checkpoint import Checkpoint
from ledger.contract.merkle import LEAF_PREFIX, Frontier
from ledger.outside_audit import documents
from ledger.outside_audit.errors import AuditFailed, ServerError
from ledger.outside_audit.event_signatures import needs_signature, signed_fields
from ledger.outside_audit.http_client import PAGE_SIZE_MAX_BYTES, LogClient
from ledger.outside_audit.prefetch import Prefetched
from ledger.outside_audit.signature_pool import SignatureChecks
from ledger.runtime.progress import ProgressCallback, ignore_progress

# The API's largest page (SPEC §7).
ENTRIES_PER_PAGE = 1000
PAGES_AHEAD = 2
CHAIN_GENESIS = bytes(32)


@dataclass(frozen=True)
class EntriesChecked:
    entries: int
    signatures: int


def _pages(client: LogClient, path: str, size: int) -> Iterator[list[dict[str, Any]]]:
    """The pages of entries 1 … `size`, following the server's `next` cursor."""
    after = 0
    while after < size:
        limit = min(ENTRIES_PER_PAGE, size - after)
        page = documents.page(client.json(path, {"after": after, "limit": limit},
                                          PAGE_SIZE_MAX_BYTES, authenticated=True), path)
        if page.items:
            yield page.items
        if page.next is None or not page.items:
            return
        if page.next <= after:
            raise ServerError(f"the server's `next` cursor of GET {path} goes back from "
                              f"{after} to {page.next}")
        after = page.next


def leaf_hash_of(entry: dict[str, Any]) -> bytes:
    """The entry's leaf hash, over the document as served without `entry_hash` (removed)."""
    entry.pop("entry_hash", None)
    try:
        canonical = canonical_json(entry)
    except rfc8785.CanonicalizationError as error:
        raise ServerError(f"entry seq {entry.get('seq')!r} has no RFC 8785 form: "
                          f"{error}") from None
    return hashlib.sha256(LEAF_PREFIX + canonical).digest()


def check_entries(client: LogClient, path: str, checkpoint: Checkpoint,
                  signatures: SignatureChecks | None,
                  progress: ProgressCallback = ignore_progress) -> EntriesChecked:
    """AuditFailed naming the first failure; the counts of what was checked otherwise.
    `progress` is told (entries read, the checkpoint's size) after every page."""
    frontier = Frontier()
    chain = CHAIN_GENESIS
    chain_breaks_at: int | None = None
    expected_seq = 1
    with Prefetched(lambda: _pages(client, path, checkpoint.size), PAGES_AHEAD) as pages:
        for items in pages:
            batch = []
            for entry in items:
                seq = entry.get("seq")
                if type(seq) is not int or seq != expected_seq or seq > checkpoint.size:
                    raise ServerError(f"the server's GET {path} gives seq {seq!r} where seq "
                                      f"{expected_seq} belongs")
                claimed = entry.get("entry_hash")
                leaf = leaf_hash_of(entry)
                frontier.append(leaf)
                chain = hashlib.sha256(chain + leaf).digest()
                if chain_breaks_at is None and claimed != chain.hex():
                    chain_breaks_at = seq
                if signatures is not None and needs_signature(entry):
                    batch.append(signed_fields(entry))
                expected_seq += 1
            if signatures is not None:
                signatures.submit(batch)
            progress(expected_seq - 1, checkpoint.size)
    served = expected_seq - 1
    if served < checkpoint.size:
        raise AuditFailed(f"the server serves {served} entries, fewer than the checkpoint's "
                          f"size {checkpoint.size}")
    if frontier.root() != checkpoint.root_hash:
        where = (f" (the hash chain first breaks at seq {chain_breaks_at})"
                 if chain_breaks_at is not None else "")
        raise AuditFailed(f"root differs: entries were altered{where}")
    if chain_breaks_at is not None:
        raise AuditFailed(f"the hash chain breaks at seq {chain_breaks_at}: its entry_hash does "
                          f"not follow from the entries before it")
    refusal = signatures.first_refusal() if signatures is not None else None
    if refusal is not None:
        seq, why = refusal
        raise AuditFailed(f"signature of seq {seq} does not verify: {why}")
    return EntriesChecked(served, signatures.checked if signatures is not None else 0)
