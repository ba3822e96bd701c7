"""The log `bench audit` audits: N entries as the ledger serves them, most of them platform events
signed with Standard Webhooks v1a keys, some the ledger's own redemptions, written once into a
cache file under the system's temporary directory (keyed by N) and served from it.

Four platforms, each with a key retired half-way through the history and its successor after
it, so that the auditor judges keys as they were. Entries are made with the ledger's own code
(`LedgerEntry`, its leaf and chain hashes), as appending makes them; the cache file holds one
served entry (its document and `entry_hash`) per line, and a small companion file its size and
root, written last: a cache without it is incomplete and is made again. Keys come from fixed
seeds: this is test data, and the same N gives the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.categories import Category
from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.merkle import Frontier
from ledger.contract.note import add_signatures
from ledger.contract.note_keys import Signer
from ledger.contract.signing import event_body
from ledger.contract.webhook import encode_public_key, key_id_for, public_key_bytes, sign
from ledger.domain.entry import GENESIS_HASH, LedgerEntry, leaf_and_entry_hash, rfc3339_utc

FORMAT_VERSION = 1
ORIGIN = "bench.pointsledger.local/ledger"
WITNESS = "witness.bench.pointsledger.local"
TOKEN = "bench-audit-auditor"  # noqa: S105 (the in-process server's, for this run only)
PLATFORMS = ("lijiayuan", "nanyang_young", "pingan_gongfu", "wuhe_zhonglian")
RESIDENTS = 5000
REDEMPTION_SHARE = 0.02
DEDUCTION_SHARE = 0.05
MEMO_SHARE = 0.3
POINTS_MAX = 50
MEMOS = ("垃圾分类 每周检查", "志愿服务 社区清洁", "平安巡逻 夜间", "知识竞赛 第三名", "门前三包")
HISTORY_START = datetime(2025, 1, 1, tzinfo=UTC)
SIGNING_DELAY_S = 2  # an event reaches the ledger this long after it was signed
SEED = 20261206


def bench_key(name: str) -> Ed25519PrivateKey:
    """A fixed key per name: the same cache file whoever makes it."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"pointsledger bench audit {name}".encode()).digest())


@dataclass(frozen=True)
class BenchKey:
    platform: str
    private_key: Ed25519PrivateKey
    added_at: datetime
    revoked_at: datetime | None

    @property
    def key_id(self) -> str:
        return key_id_for(public_key_bytes(self.private_key))

    def listed(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "platform": self.platform,
                "public_key": encode_public_key(public_key_bytes(self.private_key)),
                "added_at": rfc3339_utc(self.added_at),
                "revoked_at": rfc3339_utc(self.revoked_at) if self.revoked_at else None,
                "compromised_at": None}


def key_schedule(entries: int) -> dict[str, tuple[BenchKey, BenchKey]]:
    """Each platform's first key, retired half-way through the history, and its successor."""
    rotated_at = HISTORY_START + timedelta(seconds=entries // 2)
    return {platform: (BenchKey(platform, bench_key(f"{platform} 1"),
                                HISTORY_START - timedelta(days=1), rotated_at),
                       BenchKey(platform, bench_key(f"{platform} 2"), rotated_at, None))
            for platform in PLATFORMS}


@dataclass(frozen=True)
class CachedLog:
    entries: int
    path: Path
    root_hash: bytes


def cache_paths(entries: int) -> tuple[Path, Path]:
    stem = f"pointsledger-bench-audit-v{FORMAT_VERSION}-{entries}"
    directory = Path(tempfile.gettempdir())
    return directory / f"{stem}.jsonl", directory / f"{stem}.meta.json"


def prepared_log(entries: int) -> CachedLog:
    """The cached log of `entries` entries, made first if it is not there whole."""
    path, meta_path = cache_paths(entries)
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        meta = json.loads(meta_path.read_text())
        if meta["entries"] == entries and path.stat().st_size == meta["bytes"]:
            return CachedLog(entries, path, bytes.fromhex(meta["root"]))
    return _write_log(entries, path, meta_path)


def _write_log(entries: int, path: Path, meta_path: Path) -> CachedLog:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            root = _generate(entries, file)
            size = file.tell()
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    meta_path.write_text(json.dumps({"entries": entries, "bytes": size, "root": root.hex()}))
    return CachedLog(entries, path, root)


def _generate(entries: int, file: Any) -> bytes:
    """Write the entries, one served document per line; return the tree's root."""
    rng = random.Random(SEED)  # noqa: S311 (reproducible test data, not secrets)
    residents = [hashlib.sha256(f"bench resident {n}".encode()).hexdigest()
                 for n in range(RESIDENTS)]
    categories = [category.value for category in Category]
    schedule = key_schedule(entries)
    platform_seqs = dict.fromkeys(PLATFORMS, 0)
    frontier, head = Frontier(), GENESIS_HASH
    for seq in range(1, entries + 1):
        recorded_at = HISTORY_START + timedelta(seconds=seq)
        platform = rng.choice(PLATFORMS)
        resident = rng.choice(residents)
        if rng.random() < REDEMPTION_SHARE:
            entry = LedgerEntry(seq=seq, kind="points.redeemed", platform=platform,
                                resident=resident, points=-rng.randint(1, POINTS_MAX),
                                occurred_at=recorded_at, recorded_at=recorded_at,
                                redemption_id=f"r{seq}", branch=f"{rng.randrange(40):04d}")
        else:
            platform_seqs[platform] += 1
            first, second = schedule[platform]
            key = first if first.revoked_at and recorded_at < first.revoked_at else second
            entry = _signed_entry(rng, seq, key, platform_seqs[platform], resident,
                                  rng.choice(categories), recorded_at)
        leaf, head = leaf_and_entry_hash(head, entry)
        frontier.append(leaf)
        document = entry.document()
        document["entry_hash"] = head.hex()
        file.write(json.dumps(document, ensure_ascii=False).encode() + b"\n")
    return frontier.root()


def _signed_entry(rng: random.Random, seq: int, key: BenchKey, platform_seq: int,
                  resident: str, category: str, recorded_at: datetime) -> LedgerEntry:
    kind = "points.deducted" if rng.random() < DEDUCTION_SHARE else "points.awarded"
    points = rng.randint(1, POINTS_MAX)
    occurred_at = (recorded_at - timedelta(minutes=rng.randrange(1, 7 * 1440))).replace(
        microsecond=0)
    event_id = f"{key.platform}-{platform_seq}"
    event: dict[str, Any] = {"event_id": event_id, "platform": key.platform, "seq": platform_seq,
                             "type": kind, "resident": resident, "category": category,
                             "points": points, "occurred_at": occurred_at,
                             "source_ref": f"JF{platform_seq:010d}"}
    if rng.random() < MEMO_SHARE:
        event["memo"] = rng.choice(MEMOS)
    body = event_body(event)
    timestamp = int(recorded_at.timestamp()) - SIGNING_DELAY_S
    return LedgerEntry(
        seq=seq, kind=kind, platform=key.platform, resident=resident,
        points=points if kind == "points.awarded" else -points, occurred_at=occurred_at,
        recorded_at=recorded_at, event_id=event_id, platform_seq=platform_seq,
        category=category, key_id=key.key_id, body=body.decode(), webhook_timestamp=timestamp,
        webhook_signature=sign(key.private_key, event_id, timestamp, body))


class CachedLogSource:
    """The cached log as `ledger.bench.log_server` serves it: pages read from the file by
    offset (an index of N + 1 offsets is all it holds), one checkpoint of the whole log
    signed by the log key and cosigned by one witness."""

    def __init__(self, log: CachedLog, file_descriptor: int, offsets: array[int]) -> None:
        self.token = TOKEN
        self._log = log
        self._descriptor = file_descriptor
        self._offsets = offsets
        self._schedule = key_schedule(log.entries)
        checkpoint = Checkpoint(ORIGIN, log.entries, log.root_hash)
        note = sign_checkpoint(checkpoint, log_signer())
        cosignature = witness_signer().cosign(checkpoint.text(), int(datetime.now(UTC).timestamp()))
        self._note = add_signatures(note, [cosignature])

    def checkpoint(self, log: str) -> str | None:
        return self._note if log == "ledger" else None

    def consistency(self, log: str, first: int, second: int) -> list[bytes] | None:
        # One checkpoint only: the proofs from the empty tree, and from the tree to itself.
        return [] if first in (0, second) and second == self._log.entries else None

    def entries(self, log: str, after: int, limit: int) -> tuple[bytes, int | None]:
        if log != "ledger" or after >= self._log.entries:
            return b"", None
        last = min(after + limit, self._log.entries)
        start, end = self._offsets[after], self._offsets[last]
        lines = os.pread(self._descriptor, end - start, start)
        return lines.rstrip(b"\n").replace(b"\n", b","), (last if last < self._log.entries
                                                          else None)

    def platforms(self) -> list[str]:
        return list(self._schedule)

    def platform_keys(self, code: str) -> list[dict[str, Any]] | None:
        keys = self._schedule.get(code)
        return None if keys is None else [key.listed() for key in keys]


def log_signer() -> Signer:
    return Signer(ORIGIN, bench_key("log"))


def witness_signer() -> CosignatureSigner:
    return CosignatureSigner(WITNESS, bench_key("witness"))


@contextmanager
def served_source(log: CachedLog) -> Iterator[CachedLogSource]:
    """The cached log opened for serving; each line's offset found by one pass over the file."""
    offsets = array("Q", [0])
    with log.path.open("rb") as file:
        for line in file:
            offsets.append(offsets[-1] + len(line))
    if len(offsets) != log.entries + 1:
        raise ValueError(f"the cached log {log.path} has {len(offsets) - 1} entries, not "
                         f"{log.entries}")
    descriptor = os.open(log.path, os.O_RDONLY)
    try:
        yield CachedLogSource(log, descriptor, offsets)
    finally:
        os.close(descriptor)
