"""The county of `ledger.bench.county` written into a scratch ledger for the benchmarks (SPEC §11),
with COPY, and the default rule set put in force through the real lifecycle.

The monthly contribution rows are the sums of the county's events, the balances the sums of the
monthly rows, and the ledger entries (for `bench terms` and `bench console`) the events
themselves: the three agree as the ledger's projections do. Entries are numbered in the order
they were recorded across all residents, as in a real ledger, so that one resident's entries
lie on many pages, not side by side. Only one month's entries are held, to number them in time
order. The rows go in with COPY, into tables whose keys and indexes are built again after the
fill; the balances are summed from the monthly rows by the server.
"""


from __future__ import annotations

import base64
import dataclasses
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from ledger.bench.county import (
    PLATFORMS,
    SEED_DEFAULT,
    Event,
    Month,
    MonthGenerator,
    history,
    resident,
)
from ledger.bench.ingest import BenchRefused
from ledger.bench.scratch_database import scratch_database
from ledger.bootstrap import Ledger, build
from ledger.contract.tiles import TILE_WIDTH_HASHES
from ledger.domain.tree_growth import TileBytes, TileGrowth
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.runtime.progress import progress_bar
from ledger.service import access, registry
from ledger.service.rules import lifecycle, simulations
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.lifecycle import Actor
from ledger.settings import Settings

# Residents whose monthly rows, and entries, that go to the server in one write.
RESIDENTS_PER_WRITE = 2000
ENTRIES_PER_WRITE = 5000
CONNECT_TIMEOUT_S = 10
FILL_WORK_MEM_MB = 256

RISK_AUTHOR = Actor("bench-risk-author", "risk_officer")
RISK_APPROVER = Actor("bench-risk-approver", "risk_officer")
CREDIT_SYSTEM_USER = "bench-loans"

# -- writing ----------------------------------------------------------------------------------

MONTHLY_COLUMNS = ("resident", "platform", "category", "month", "awarded", "revoked",
                   "deducted", "deductions")
ENTRY_COLUMNS = ("seq", "kind", "platform", "event_id", "platform_seq", "resident", "category",
                 "points", "occurred_at", "recorded_at", "revokes", "key_id", "body",
                 "webhook_timestamp", "webhook_signature", "entry_hash")
COPY_NULL = "\\N"
TILE_COLUMNS = ("log", "level", '"index"', "hashes")
SIGNATURE_BYTES = 64
HASH_BYTES = 32
SHANGHAI_OFFSET_S = 8 * 3600


@dataclass(frozen=True)
class Filled:
    residents: int
    monthly_rows: int
    balances: int
    entries: int
    seconds: float


def fill(ledger: Ledger, database_url: str, residents: int, with_entries: bool,
         seed: int = SEED_DEFAULT, pepper: str | None = None) -> Filled:
    """Register the four platforms (one key each) and write the county into the database."""
    if residents < 1:
        raise ValueError("a county has at least one resident")
    started = time.perf_counter()
    key_ids = _register_platforms(ledger)
    months = history(ledger.clock())
    generator = MonthGenerator(seed, months[-1].end_s)
    entries_writer = _EntryWriter(key_ids, random.Random(seed + 2))  # noqa: S311 (test data)
    monthly_rows = 0
    resident_months = len(months) * residents
    with (connect(database_url) as connection, _keys_built_after(connection, FILLED_TABLES),
          progress_bar("county: resident-months written") as progress):
        for index, month in enumerate(months):
            events: list[Event] | None = [] if with_entries else None
            with connection.cursor().copy(_copy_statement("monthly_contributions",
                                                          MONTHLY_COLUMNS)) as copy:
                for write, lines in enumerate(_monthly_lines(generator, residents, seed, index,
                                                             month, events, pepper)):
                    monthly_rows += len(lines)
                    copy.write("".join(lines))
                    progress(index * residents
                             + min(residents, (write + 1) * RESIDENTS_PER_WRITE),
                             resident_months)
            if events:
                events.sort(key=lambda event: event[0])  # stable: an award before its revocation
                entries_writer.write(connection, events)
        entries_writer.write_partial_tiles(connection)
        balances = _add_balances(connection)
        _set_platform_heads(connection, entries_writer.platform_seqs)
    _vacuum_analyze(database_url)
    return Filled(residents, monthly_rows, balances, entries_writer.seq,
                  time.perf_counter() - started)


def _monthly_lines(generator: MonthGenerator, residents: int, seed: int, month_index: int,
                   month: Month, events: list[Event] | None,
                   pepper: str | None) -> Iterator[list[str]]:
    """COPY lines of one month, a write's worth of residents at a time, in pseudonym order."""
    for first in range(0, residents, RESIDENTS_PER_WRITE):
        lines: list[str] = []
        for number in range(first, min(first + RESIDENTS_PER_WRITE, residents)):
            who = resident(number, seed, pepper)
            cells = generator.cells(who, month_index, month, events)
            lines.extend(
                f"{who.pseudonym}\t{PLATFORMS[platform].code}\t{category}\t{month.label}\t"
                f"{sums[0]}\t{sums[1]}\t{sums[2]}\t{sums[3]}\n"
                for (platform, category), sums in sorted(cells.items()))
        yield lines


class _EntryWriter:
    """Ledger entries in the order given, numbered on (seq, and each platform's seq).

    They do not form a valid hash chain: entry_hash and the signature are random bytes of the
    right size, the body an envelope of the right shape. Nothing reads the chain here, and
    chaining millions of entries would cost more than the rest of the fill.

    The Merkle tree (SPEC §14) is grown over the same random bytes as leaf hashes, so that the
    ledger's appends after the fill (`bench console`) find the tree at the head's size.
    """

    def __init__(self, key_ids: list[str], rng: random.Random) -> None:
        self._key_ids = key_ids
        self._rng = rng
        self.seq = 0
        self.platform_seqs = [0] * len(PLATFORMS)
        self._tree = TileGrowth()

    def write(self, connection: psycopg.Connection[Any], events: list[Event]) -> None:
        with connection.cursor().copy(_copy_statement("ledger_entries", ENTRY_COLUMNS)) as copy:
            for start in range(0, len(events), ENTRIES_PER_WRITE):
                copy.write("".join(self._line(event)
                                   for event in events[start:start + ENTRIES_PER_WRITE]))
        _write_tiles(connection, self._tree.take_full_tiles())

    def write_partial_tiles(self, connection: psycopg.Connection[Any]) -> None:
        """The right-most tile of each level, after the last `write`."""
        tree = self._tree
        _write_tiles(connection, [
            (level, tree.first_index(level) // TILE_WIDTH_HASHES, b"".join(hashes))
            for level, hashes in enumerate(tree.gained) if hashes])

    def _line(self, event: Event) -> str:
        recorded_s, occurred_s, kind, platform, category, points, who, event_id, revokes = event
        self.seq += 1
        self.platform_seqs[platform] += 1
        platform_seq = self.platform_seqs[platform]
        code = PLATFORMS[platform].code
        local = time.strftime("%Y-%m-%dT%H:%M:%S+08:00",
                              time.gmtime(occurred_s + SHANGHAI_OFFSET_S))
        revokes_member = f'"revokes":"{revokes}",' if revokes is not None else ""
        body = (f'{{"category":"{category}","event_id":"{event_id}","occurred_at":"{local}",'
                f'"platform":"{code}","points":{abs(points)},"resident":"{who}",'
                f'{revokes_member}"seq":{platform_seq},"type":"{kind}"}}')
        signature = base64.b64encode(self._rng.randbytes(SIGNATURE_BYTES)).decode("ascii")
        entry_hash = self._rng.randbytes(HASH_BYTES)
        self._tree.append(entry_hash)
        return (f"{self.seq}\t{kind}\t{code}\t{event_id}\t{platform_seq}\t{who}\t{category}\t"
                f"{points}\t{_utc(occurred_s)}\t{_utc(recorded_s)}\t"
                f"{COPY_NULL if revokes is None else revokes}\t{self._key_ids[platform]}\t"
                f"{body}\t{recorded_s}\tv1a,{signature}\t{entry_hash.hex()}\n")


def _write_tiles(connection: psycopg.Connection[Any], tiles: list[TileBytes]) -> None:
    with connection.cursor().copy(_copy_statement("merkle_tiles", TILE_COLUMNS)) as copy:
        copy.write("".join(f"{LEDGER_LOG}\t{level}\t{index}\t\\\\x{data.hex()}\n"
                           for level, index, data in tiles))


@contextmanager
def _keys_built_after(connection: psycopg.Connection[Any], tables: tuple[str, ...]
                      ) -> Iterator[None]:
    """The tables' keys, foreign keys and indexes dropped for the fill and built again after
    it, in the same transaction (committed at the end): COPY into a table with its keys checks
    each row's foreign key and inserts it into each index, three times slower than building
    them whole. The tables end up with the constraints and indexes the migrations made, only
    denser than years of inserts leave them. A key another table's foreign key refers to stays.
    """
    constraints: list[tuple[str, str, str]] = []  # (table, name, definition)
    indexes: list[tuple[str, str]] = []  # (name, definition)
    for table in tables:
        constraints.extend((table, name, definition) for name, definition
                           in connection.execute(_DROPPABLE_CONSTRAINTS, (table,)))
        indexes.extend(connection.execute(_PLAIN_INDEXES, (table, table)))
    for table, name, _ in constraints:
        connection.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)))
    for name, _ in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    for table, name, definition in constraints:  # keys first: the foreign keys come last
        connection.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(table), sql.Identifier(name)) + sql.SQL(definition))
    for _, definition in indexes:
        connection.execute(sql.SQL(definition))
    connection.commit()


FILLED_TABLES = ("monthly_contributions", "balances", "ledger_entries")
# Primary keys and unique constraints that no foreign key relies on, then foreign keys.
_DROPPABLE_CONSTRAINTS = """
SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f')
  AND NOT (c.contype IN ('p', 'u') AND EXISTS (
      SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))
ORDER BY c.contype = 'f', c.conname"""
# Indexes of no constraint (the definitions name their table).
_PLAIN_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
WHERE i.indrelid = %s::regclass AND NOT EXISTS (
    SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = %s::regclass)
ORDER BY i.indexrelid"""


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(seconds))


def _copy_statement(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


def _add_balances(connection: psycopg.Connection[Any]) -> int:
    """Each resident's balance per platform: the sums of their monthly rows (nothing redeemed)."""
    cursor = connection.execute(
        "INSERT INTO balances (resident, platform, earned, deducted, revoked, redeemed, "
        "spendable) SELECT resident, platform, sum(awarded), sum(deducted), sum(revoked), 0, "
        "sum(awarded - revoked - deducted) FROM monthly_contributions GROUP BY 1, 2")
    return cursor.rowcount


def _set_platform_heads(connection: psycopg.Connection[Any], platform_seqs: list[int]) -> None:
    for profile, last_seq in zip(PLATFORMS, platform_seqs, strict=True):
        connection.execute("UPDATE platforms SET last_seq = %s WHERE code = %s",
                           (last_seq, profile.code))


def _vacuum_analyze(database_url: str) -> None:
    """Statistics and visibility maps as autovacuum leaves them on a live ledger: the planner
    and the index-only scans see the tables as they would in production."""
    with connect(database_url, autocommit=True) as connection:
        for table in ("monthly_contributions", "balances", "ledger_entries"):
            connection.execute(f"VACUUM (ANALYZE) {table}")


def connect(database_url: str, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection of the bench's own, without the ledger's statement timeout (one COPY of a
    month of a large county may take longer than any request should), and with the memory to
    sum the balances and build the indexes without spilling to disk."""
    url = make_url(database_url)
    connection = psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        dbname=url.database, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    connection.execute("SET statement_timeout = 0")
    connection.execute(f"SET work_mem = '{FILL_WORK_MEM_MB}MB'")
    connection.execute(f"SET maintenance_work_mem = '{FILL_WORK_MEM_MB}MB'")
    return connection


def _register_platforms(ledger: Ledger) -> list[str]:
    """The four platforms with one key each; the key ids, in PLATFORMS order."""
    key_ids: list[str] = []
    with ledger.sessions.begin() as session:
        for profile in PLATFORMS:
            now = ledger.clock()
            registry.add_platform(session, profile.code, profile.name, profile.township, now)
            _, registered = registry.generate_key(session, profile.code, now)
            key_ids.append(registered.key_id)
    return key_ids


# -- the rules --------------------------------------------------------------------------------

def put_in_force(ledger: Ledger, document: dict[str, Any], comment: str) -> int:
    """Draft, submit, simulate and approve under four eyes: the version is active now."""
    version = draft(ledger, document, comment)
    simulations.simulate(ledger.sessions, RISK_APPROVER, version, ledger.clock())
    with ledger.sessions.begin() as session:
        lifecycle.approve(session, RISK_APPROVER, version, "impact reviewed", ledger.clock())
    return version


def draft(ledger: Ledger, document: dict[str, Any], comment: str) -> int:
    """A version drafted and submitted by the author."""
    with ledger.sessions.begin() as session:
        version = lifecycle.draft(session, RISK_AUTHOR, document, comment, ledger.clock())
    with ledger.sessions.begin() as session:
        lifecycle.submit(session, RISK_AUTHOR, version, "ready for review", ledger.clock())
    return version


def put_default_in_force(ledger: Ledger) -> int:
    return put_in_force(ledger, DEFAULT_RULESET, "the default policy for the four towns")


def add_officers(ledger: Ledger) -> None:
    with ledger.sessions.begin() as session:
        for officer in (RISK_AUTHOR, RISK_APPROVER):
            access.add_user(session, officer.username, officer.role, None, ledger.clock())


def credit_system_token(ledger: Ledger) -> str:
    """A bearer token of the loan system's user (created here)."""
    with ledger.sessions.begin() as session:
        access.add_user(session, CREDIT_SYSTEM_USER, "credit_system", None, ledger.clock())
        session.flush()
        token, _ = access.create_token(session, CREDIT_SYSTEM_USER, ledger.clock())
    return token


@contextmanager
def scratch_county(settings: Settings, bench: str, residents: int, with_entries: bool
                   ) -> Iterator[tuple[Ledger, str, Filled]]:
    """A scratch database on the configured PostgreSQL server, filled with a county of
    residents, two risk officers and the default policy in force: (ledger, its URL, what was
    filled). Dropped at the end."""
    require_postgresql(settings, bench)
    with scratch_database(settings.database_url) as scratch_url:
        ledger = build(dataclasses.replace(settings, database_url=scratch_url, amqp_url=None))
        try:
            filled = fill(ledger, scratch_url, residents, with_entries=with_entries)
            add_officers(ledger)
            put_default_in_force(ledger)
            yield ledger, scratch_url, filled
        finally:
            ledger.close()


def require_postgresql(settings: Settings, bench: str) -> None:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise BenchRefused(f"bench {bench} needs PostgreSQL: POINTSLEDGER_DATABASE_URL points to "
                           "SQLite (the scratch database is created on its server)")
