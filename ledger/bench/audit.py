"""`pointsledger bench audit` (SPEC §11): `pointsledger audit --full` over N entries, served over
HTTP by an in-process server from a cached log (`audit_log`), in entries per second.

Yardstick: what the audit cannot do without, on one core: SHA-256 of each entry's bytes (its
RFC 8785 form) and an Ed25519 verification of each platform signature, over the same entries
and signatures, in a plain loop. It is measured in the same run, just before and just after the
timed audit (their mean), so that the ratio holds on a noisy machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.bench.audit_log import (
    CachedLog,
    key_schedule,
    log_signer,
    prepared_log,
    served_source,
    witness_signer,
)
from ledger.bench.ingest import BenchFailed
from ledger.bench.log_server import serve_log
from ledger.bench.memory import peak_rss_mb
from ledger.contract.canonical_json import canonical_json
from ledger.contract.webhook import signed_content
from ledger.outside_audit.auditor import AuditRequest, run_audit
from ledger.outside_audit.errors import AuditFailed, ServerError

TARGET_RATIO = 0.5
ENTRIES_DEFAULT = 1_000_000
# The yardstick's loop runs over the log's first entries, again and again for this long.
YARDSTICK_ENTRIES_MAX = 5_000
YARDSTICK_DURATION_S = 3.0


@dataclass(frozen=True)
class _Sample:
    """One entry as the yardstick takes it: the bytes hashed, and the signature if it has one."""

    canonical: bytes
    public_key: Ed25519PublicKey | None
    signature: bytes
    content: bytes


@dataclass(frozen=True)
class AuditBenchResult:
    entries: int
    signatures: int
    seconds: float
    yardstick_per_s: float
    peak_rss_mb: float

    @property
    def entries_per_s(self) -> float:
        return self.entries / self.seconds

    def document(self) -> dict[str, Any]:
        return {
            "bench": "audit",
            "entries": self.entries,
            "signatures": self.signatures,
            "seconds": round(self.seconds, 3),
            "entries_per_s": round(self.entries_per_s, 1),
            "yardstick_per_s": round(self.yardstick_per_s, 1),
            "ratio": round(self.entries_per_s / self.yardstick_per_s, 3),
            "target_ratio": TARGET_RATIO,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


def run_audit_bench(entries: int,
                    yardstick_duration_s: float = YARDSTICK_DURATION_S) -> AuditBenchResult:
    log = prepared_log(entries)
    samples = _samples(log)
    with served_source(log) as source, serve_log(source) as url, \
            tempfile.TemporaryDirectory(prefix="pointsledger-bench-audit-") as state:
        request = AuditRequest(url, log_signer().vkey(), Path(state),
                               (witness_signer().vkey(),), token=source.token, full=True)
        before = _yardstick_per_s(samples, yardstick_duration_s)
        started = time.perf_counter()
        try:
            report = run_audit(request)
        except (AuditFailed, ServerError) as error:
            raise BenchFailed(f"the audit of the bench's log failed: {error}") from None
        seconds = time.perf_counter() - started
        after = _yardstick_per_s(samples, yardstick_duration_s)
    if report.entries is None or report.entries.entries != entries:
        raise BenchFailed(f"the audit checked {report.entries} entries, not {entries}")
    return AuditBenchResult(entries, report.entries.signatures, seconds, (before + after) / 2,
                            peak_rss_mb())


def _samples(log: CachedLog) -> list[_Sample]:
    """The log's first entries, read and prepared outside the yardstick's timing."""
    public_keys = {key.key_id: key.private_key.public_key()
                   for keys in key_schedule(log.entries).values() for key in keys}
    samples = []
    with log.path.open("rb") as file:
        for line in islice(file, YARDSTICK_ENTRIES_MAX):
            document = json.loads(line)
            document.pop("entry_hash")
            canonical = b"\x00" + canonical_json(document)
            if "webhook_signature" not in document:
                samples.append(_Sample(canonical, None, b"", b""))
                continue
            signature = base64.b64decode(document["webhook_signature"].partition(",")[2])
            content = signed_content(document["event_id"], document["webhook_timestamp"],
                                     document["body"].encode())
            samples.append(_Sample(canonical, public_keys[document["key_id"]], signature,
                                   content))
    return samples


def _yardstick_per_s(samples: list[_Sample], duration_s: float) -> float:
    """Entries per second of SHA-256 and Ed25519 alone, on this thread."""
    done = 0
    started = time.perf_counter()
    while True:
        for sample in samples:
            hashlib.sha256(sample.canonical).digest()
            if sample.public_key is not None:
                sample.public_key.verify(sample.signature, sample.content)
        done += len(samples)
        elapsed = time.perf_counter() - started
        if elapsed >= duration_s:
            return done / elapsed
