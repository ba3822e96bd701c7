"""The outbox's tables, as its migrations leave them (tests/adapters/test_outbox_migrations.py
checks that the two agree). The outbox is the adapter's private working store, not the ledger:
it holds nothing that cannot be re-derived from the platform's records once they were published.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from ledger.runtime.database import UTCDateTime

metadata = MetaData()

outbox_events = Table(
    "outbox_events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("native_id", String(128), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("resident", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("points", Integer, nullable=False),
    # What decides whether a re-received record is the same one (a retry) or another (a conflict).
    Column("fingerprint", String(64), nullable=False),
    Column("routing_key", String(128), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("location", String(512), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", String(512), nullable=False),
    Column("record", Text, nullable=False),
)

adapter_state = Table(
    "adapter_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# A file being imported in chunks (adapters.base.file_import): where the next chunk starts and
# what the chunks committed so far came to; the row goes once the file is in imported_sources.
import_progress = Table(
    "import_progress", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("resume_offset", BigInteger, nullable=False),
    Column("resume_line", BigInteger, nullable=False),
    Column("report", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

imported_sources = Table(
    "imported_sources", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("report", Text, nullable=False),
)

# pseudonym → the resident's ID number, sealed (adapters.base.residents): to deliver notices.
residents = Table(
    "residents", metadata,
    Column("resident", String(64), primary_key=True),
    Column("sealed_id_number", LargeBinary, nullable=False),
)

# Every notice taken from the ledger's outbound queue: delivered (once per notice_id) or refused
# with its reason, raw bytes and headers kept.
notices = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(64), nullable=True, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("detail", String(512), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
)

# When the broker confirmed the events (adapters.base.outbox.events.mark_published): one row
# each time the published watermark moves, so publishing pays one small insert per batch. An
# event was published at the time of the first mark at or after its seq; a mark without a time
# stands for the events published before the adapter kept these times.
published_marks = Table(
    "published_marks", metadata,
    Column("through_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("published_at", UTCDateTime, nullable=True),
)

# The ledger's receipts (SPEC §14; adapters.base.receipts): for a published event, the first
# inclusion proof the adapter verified and the signed checkpoint it leads to. Written once,
# never replaced: it is the township's evidence that the bank recorded what it was sent.
receipts = Table(
    "receipts", metadata,
    Column("outbox_seq", BigInteger, ForeignKey("outbox_events.seq"), primary_key=True,
           autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    # One entry of the ledger is one event: a proof that names another event's entry is refused.
    Column("ledger_seq", BigInteger, nullable=False, unique=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("proof_hashes", Text, nullable=False),  # a JSON list of hex hashes, deepest first
    Column("checkpoint", Text, nullable=False),  # the signed note, cosignatures and all
    Column("proven_at", UTCDateTime, nullable=False),
)

# Events the ledger says it rejected (its outcome for them, SPEC §4.5): not unproven, rejected.
ledger_rejections = Table(
    "ledger_rejections", metadata,
    Column("outbox_seq", BigInteger, ForeignKey("outbox_events.seq"), primary_key=True,
           autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("reason", String(64), nullable=False),
    Column("learned_at", UTCDateTime, nullable=False),
)

# Two checkpoints, both signed by the ledger's log key, that no one history explains: the
# checkpoint the adapter kept and the one shown later. Kept as they came, as evidence of a fork.
inconsistent_checkpoints = Table(
    "inconsistent_checkpoints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kept_size", BigInteger, nullable=False),
    Column("shown_size", BigInteger, nullable=False),
    Column("kept_checkpoint", Text, nullable=False),
    Column("shown_checkpoint", Text, nullable=False),
    Column("detail", String(512), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)
