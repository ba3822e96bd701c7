"""A fake of the ledger's log as an auditor sees it over HTTP, until the ledger's own endpoints
are merged (then end-to-end tests against the real API can take its place).

Entries are real: platform events signed with Standard Webhooks v1a keys, documents and hashes
made by the ledger's own domain code (`LedgerEntry`, `entry_leaf_hash`, `chain_hash`), so the
auditor is checked against what the ledger writes. Checkpoints are signed with a `Signer` under
the origin and cosigned with `CosignatureSigner`s; proofs come from `ledger.contract.merkle`
over the leaves as they were appended. Served by `ledger.bench.log_server` on a free port.

The ways a bank could cheat are methods: rebuild the history from some seq on, cut it short,
alter a served entry after its leaf was appended (a row changed with the triggers disabled),
record an entry with a forged signature or under a key already declared compromised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bench.log_server import AUDIT_TRAIL, LEDGER
from ledger.contract.checkpoint import Checkpoint, sign_checkpoint
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.merkle import consistency_proof, root_from_leaf_hashes
from ledger.contract.note import add_signatures
from ledger.contract.note_keys import Signer
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import encode_public_key, key_id_for, public_key_bytes
from ledger.domain.audit import AuditRecord
from ledger.domain.entry import GENESIS_HASH, LedgerEntry, chain_hash, entry_leaf_hash, leaf_hash

ORIGIN = "bank.example/ledger"
TOKEN = "auditor-token-for-tests"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RESIDENT = "a" * 64


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class PlatformKey:
    platform: str
    private_key: Ed25519PrivateKey
    added_at: datetime
    revoked_at: datetime | None = None
    compromised_at: datetime | None = None

    @property
    def key_id(self) -> str:
        return key_id_for(public_key_bytes(self.private_key))

    def listed(self) -> dict[str, Any]:
        """As `GET /platforms/{code}/keys` lists it."""
        return {"key_id": self.key_id, "platform": self.platform,
                "public_key": encode_public_key(public_key_bytes(self.private_key)),
                "added_at": rfc3339(self.added_at),
                "revoked_at": rfc3339(self.revoked_at) if self.revoked_at else None,
                "compromised_at": rfc3339(self.compromised_at) if self.compromised_at else None}


@dataclass
class _Log:
    """One log's served documents (with entry_hash), the leaves appended, its checkpoints."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    head: bytes = GENESIS_HASH
    checkpoints: dict[int, str] = field(default_factory=dict)  # size -> signed note
    latest: str | None = None

    def append(self, document: dict[str, Any], leaf: bytes) -> None:
        self.head = chain_hash(self.head, leaf)
        self.leaves.append(leaf)
        self.documents.append({**document, "entry_hash": self.head.hex()})

    def cut(self, size: int) -> None:
        """Back to `size` entries, as a restored backup is; later checkpoints go with them."""
        del self.documents[size:], self.leaves[size:]
        self.head = bytes.fromhex(self.documents[-1]["entry_hash"]) if size else GENESIS_HASH
        self.checkpoints = {n: note for n, note in self.checkpoints.items() if n <= size}


class FakeLog:
    """The ledger's log and its audit trail's, their keys, witnesses and platforms."""

    def __init__(self, witnesses: int = 0, origin: str = ORIGIN) -> None:
        self.token = TOKEN
        log_key = Ed25519PrivateKey.generate()
        self.signers = {LEDGER: Signer(origin, log_key), AUDIT_TRAIL: Signer(f"{origin}/audit",
                                                                             log_key)}
        self.witnesses = [CosignatureSigner(f"witness-{number}.example",
                                            Ed25519PrivateKey.generate())
                          for number in range(1, witnesses + 1)]
        self.keys: dict[str, list[PlatformKey]] = {}
        self.logs = {LEDGER: _Log(), AUDIT_TRAIL: _Log()}
        self.clock = START
        self._platform_seqs: dict[str, int] = {}

    # -- keys -------------------------------------------------------------------------------

    def vkey(self, log: str = LEDGER) -> str:
        return self.signers[log].vkey()

    def witness_vkeys(self) -> list[str]:
        return [witness.vkey() for witness in self.witnesses]

    def add_platform(self, code: str) -> PlatformKey:
        key = PlatformKey(code, Ed25519PrivateKey.generate(), self._tick())
        self.keys.setdefault(code, []).append(key)
        return key

    # -- appending --------------------------------------------------------------------------

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def record_event(self, key: PlatformKey, kind: str = "points.awarded", points: int = 5,
                     forged: bool = False) -> LedgerEntry:
        """A platform event signed with `key` and recorded; `forged` signs it with a key the
        platform never had, while the entry still names `key`."""
        recorded_at = self._tick()
        platform_seq = self._platform_seqs[key.platform] = (
            self._platform_seqs.get(key.platform, 0) + 1)
        event = {"event_id": f"{key.platform}-{platform_seq}", "platform": key.platform,
                 "seq": platform_seq, "type": kind, "resident": RESIDENT,
                 "category": "volunteering", "points": points,
                 "occurred_at": (recorded_at - timedelta(hours=1)).isoformat(),
                 "memo": "社区清洁"}
        signing_key = Ed25519PrivateKey.generate() if forged else key.private_key
        timestamp = int(recorded_at.timestamp()) - 5
        signed = EventSigner(signing_key).sign(event, timestamp)
        entry = LedgerEntry(
            seq=len(self.logs[LEDGER].documents) + 1, kind=kind, platform=key.platform,
            resident=RESIDENT, points=-points if kind != "points.awarded" else points,
            occurred_at=recorded_at - timedelta(hours=1), recorded_at=recorded_at,
            event_id=signed.event_id, platform_seq=platform_seq, category="volunteering",
            key_id=key.key_id, body=signed.body.decode(), webhook_timestamp=timestamp,
            webhook_signature=signed.headers["webhook-signature"])
        self.logs[LEDGER].append(entry.document(), entry_leaf_hash(entry))
        return entry

    def record_redemption(self, platform: str, points: int = 3) -> LedgerEntry:
        """The ledger's own entry: no platform signs a redemption at a branch counter."""
        recorded_at = self._tick()
        entry = LedgerEntry(seq=len(self.logs[LEDGER].documents) + 1, kind="points.redeemed",
                            platform=platform, resident=RESIDENT, points=-points,
                            occurred_at=recorded_at, recorded_at=recorded_at,
                            redemption_id=f"r-{recorded_at.timestamp():.0f}", branch="0101")
        self.logs[LEDGER].append(entry.document(), entry_leaf_hash(entry))
        return entry

    def record_audit_event(self, action: str = "ruleset.approved") -> AuditRecord:
        record = AuditRecord(seq=len(self.logs[AUDIT_TRAIL].documents) + 1, at=self._tick(),
                             actor="risk-1", action=action, subject="ruleset:3",
                             comment="季度调整", details={"from": 2, "to": 3, "notes": ["ok"]})
        self.logs[AUDIT_TRAIL].append(record.document(), leaf_hash(record.document()))
        return record

    def record_unsigned_award(self, platform: str) -> LedgerEntry:
        """An award no platform signed, as only the bank itself could write one."""
        recorded_at = self._tick()
        entry = LedgerEntry(seq=len(self.logs[LEDGER].documents) + 1, kind="points.awarded",
                            platform=platform, resident=RESIDENT, points=500,
                            occurred_at=recorded_at, recorded_at=recorded_at,
                            event_id="made-up-1", category="honors")
        self.logs[LEDGER].append(entry.document(), entry_leaf_hash(entry))
        return entry

    def grow(self, events: int, key: PlatformKey) -> None:
        for _ in range(events):
            self.record_event(key)

    # -- checkpoints ------------------------------------------------------------------------

    def publish(self, log: str = LEDGER, cosigners: list[CosignatureSigner] | None = None,
                signer: Signer | None = None) -> Checkpoint:
        """Sign a checkpoint of the log as it stands, cosigned by `cosigners` (default: every
        witness), and make it the latest."""
        served = self.logs[log]
        checkpoint = Checkpoint(self.signers[log].name, len(served.leaves),
                                root_from_leaf_hashes(served.leaves))
        note = sign_checkpoint(checkpoint, signer or self.signers[log])
        timestamp = int(self._tick().timestamp())
        cosignatures = [witness.cosign(checkpoint.text(), timestamp)
                        for witness in (self.witnesses if cosigners is None else cosigners)]
        if cosignatures:
            note = add_signatures(note, cosignatures)
        served.checkpoints[checkpoint.size] = note
        served.latest = note
        return checkpoint

    # -- cheating ---------------------------------------------------------------------------

    def rebuild_from(self, seq: int, key: PlatformKey, events: int) -> None:
        """Another history from `seq` on: entries from there replaced by `events` others."""
        self.logs[LEDGER].cut(seq - 1)
        for _ in range(events):
            self.record_event(key, points=7)

    def cut_short(self, size: int, log: str = LEDGER) -> None:
        self.logs[log].cut(size)

    def alter_served(self, seq: int, log: str = LEDGER, **changes: Any) -> None:
        """Change a served entry after its leaf was appended: its hashes stay as they were."""
        documents = self.logs[log].documents
        documents[seq - 1] = {**documents[seq - 1], **changes}

    def declare_compromised(self, key: PlatformKey) -> None:
        key.compromised_at = key.revoked_at = self._tick()

    def retire(self, key: PlatformKey) -> PlatformKey:
        """Rotation: the key is retired now and a new one added."""
        key.revoked_at = self._tick()
        return self.add_platform(key.platform)

    # -- LogSource (ledger.bench.log_server) ------------------------------------------------

    def checkpoint(self, log: str) -> str | None:
        return self.logs[log].latest

    def consistency(self, log: str, first: int, second: int) -> list[bytes] | None:
        served = self.logs[log]
        if not (first in served.checkpoints and second in served.checkpoints
                and first <= second):
            return None
        leaves = served.leaves

        def hash_at(level: int, index: int) -> bytes:
            return root_from_leaf_hashes(leaves[index << level:(index + 1) << level])

        return consistency_proof(first, second, hash_at)

    def entries(self, log: str, after: int, limit: int) -> tuple[bytes, int | None]:
        documents = self.logs[log].documents
        shown = documents[after:after + limit]
        following = shown[-1]["seq"] if shown and after + limit < len(documents) else None
        return b",".join(json.dumps(document).encode() for document in shown), following

    def platforms(self) -> list[str]:
        return sorted(self.keys)

    def platform_keys(self, code: str) -> list[dict[str, Any]] | None:
        keys = self.keys.get(code)
        return None if keys is None else [key.listed() for key in keys]

