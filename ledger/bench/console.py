"""`pointsledger bench console` (SPEC §11): the console's main pages over a county, served by
gunicorn while `pointsledger consume` ingests a steady 200 events per second; p50, p95 and p99
per page.

Set-up (not timed), in a scratch database next to the configured one (dropped at the end): the
county of `ledger.bench.population` with 13 months of entries, its pseudonyms the real ones of
its residents' ID numbers under the ledger's pepper (a teller looks them up by ID number);
13 months of the audit trail of 40 branches' staff (`audit_history`); the default rule set put
in force through its lifecycle (so a simulation is recorded); the bench's own teller,
supervisor, auditor, risk officer and admin with console passwords, gifts in stock at the
teller's branch, a few thousand refused events over the months (`console_county`); and a
platform that joined this month, whose key signs the live events.

Timed: a browser-shaped client (`console_client`) signs in as each person through the sign-in
page and visits the pages in rounds (`console_pages`), one request at a time, against the app
under gunicorn (`served`) while a thread publishes the new platform's events at 200 per second
(`steady_events`) and the consumer appends them. A few rounds first warm every worker up; they
are not counted. At the end the consumer must have kept up: every event published is in the
ledger (or refused) within seconds of the last one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from ledger.bench import audit_history, console_county, population, served
from ledger.bench.console_client import ConsoleClient
from ledger.bench.console_pages import County, Rounds, Tally, Visitors
from ledger.bench.county import PLATFORMS, PlatformProfile, history
from ledger.bench.ingest import BenchFailed, BenchRefused, _require_idle_ledger_queue
from ledger.bench.scratch_database import scratch_database
from ledger.bench.steady_events import EVENTS_PER_S_DEFAULT, EventStream, SteadyPublisher
from ledger.bootstrap import Ledger, build
from ledger.contract.signing import EventSigner
from ledger.domain.scoring import SHANGHAI
from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.service import administration
from ledger.service.ledger_read import ledger_head
from ledger.service.tree import catch_up_audit_tree
from ledger.settings import Settings

RESIDENTS_DEFAULT = 1_000_000
REQUESTS_DEFAULT = 1000
REQUESTS_MAX = 100_000
WARMUP_ROUNDS = 20
TARGET_P99_MS = 300
VISIT_SEED = 20261205
# The platform that joined this month: its events are the live ones.
LIVE_PLATFORM = PlatformProfile("xintang", "新塘分", "新塘街道", "XT", 0.0,
                                PLATFORMS[0].activities, PLATFORMS[0].deducted)
# The consumer kept up when the ledger holds every published event this soon after the last.
CATCH_UP_S_MAX = 15.0
POLL_S = 0.2
VACUUMED_TABLES = ("audit_trail", "rejections", "users", "branches")


@dataclass(frozen=True)
class Prepared:
    filled: population.Filled
    audit_events: int
    rejections: int
    passwords: dict[str, str]
    county: County
    stream_key: Ed25519PrivateKey  # signs the live platform's events
    stream_last_seq: int  # the live platform's last seq before them
    seconds: float


@dataclass(frozen=True)
class Ingested:
    published: int
    recorded_in_window: int
    window_s: float
    catch_up_s: float
    rejected: int

    @property
    def events_per_s(self) -> float:
        return self.recorded_in_window / self.window_s


@dataclass(frozen=True)
class ConsoleBenchResult:
    prepared: Prepared
    tally: Tally
    entries: int
    ingested: Ingested
    seconds: float

    def document(self) -> dict[str, Any]:
        pages = {page: _figures(latencies) for page, latencies
                 in self.tally.latencies_s.items()}
        return {
            "bench": "console",
            "residents": self.prepared.filled.residents,
            "entries": self.entries,
            "monthly_rows": self.prepared.filled.monthly_rows,
            "audit_events": self.prepared.audit_events,
            "rejections": self.prepared.rejections,
            "gunicorn_workers": served.WORKERS,
            "warmup_rounds": WARMUP_ROUNDS,
            "pages": pages,
            "target_p99_ms": TARGET_P99_MS,
            "pages_over_target": sorted(page for page, figures in pages.items()
                                        if figures["p99_ms"] >= TARGET_P99_MS),
            "redeemed": self.tally.redeemed,
            "redemptions_refused": self.tally.refused,
            "seconds": round(self.seconds, 1),
            "ingest_target_events_per_s": EVENTS_PER_S_DEFAULT,
            "ingest_events_per_s": round(self.ingested.events_per_s, 1),
            "events_published": self.ingested.published,
            "events_rejected": self.ingested.rejected,
            "consumer_catch_up_s": round(self.ingested.catch_up_s, 2),
            "fill_s": round(self.prepared.filled.seconds, 1),
            "setup_s": round(self.prepared.seconds, 1),
        }


def _figures(latencies_s: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies_s)
    return {"requests": len(ordered),
            "p50_ms": round(percentile(ordered, 50) * 1000, 1),
            "p95_ms": round(percentile(ordered, 95) * 1000, 1),
            "p99_ms": round(percentile(ordered, 99) * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def percentile(ordered: list[float], percent: int) -> float:
    """Nearest rank: the smallest latency that at least `percent` % of requests did not exceed."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def run_console_bench(settings: Settings, residents: int, requests: int) -> ConsoleBenchResult:
    amqp_url = _checked_configuration(settings)
    directory = served.wsgi_directory()
    _require_idle_ledger_queue(amqp_url)
    with scratch_database(settings.database_url) as scratch_url:
        scratch = dataclasses.replace(settings, database_url=scratch_url)
        ledger = build(dataclasses.replace(scratch, amqp_url=None))
        try:
            prepared = _prepare(ledger, scratch_url, residents)
            with served.consumer(scratch) as consumer, served.gunicorn(
                    scratch, directory) as base_url:
                result = _timed_run(ledger, scratch, amqp_url, base_url, prepared, requests,
                                    lambda: served.require_running(consumer, "the consumer"))
        finally:
            ledger.close()
    _require_idle_ledger_queue(amqp_url, after_run=True)
    return result


def _checked_configuration(settings: Settings) -> str:
    population.require_postgresql(settings, "console")
    if settings.amqp_url is None:
        raise BenchRefused("bench console needs POINTSLEDGER_AMQP_URL (a vhost of its own): the "
                           "consumer ingests live events from it while the pages are timed")
    return settings.amqp_url


def _prepare(ledger: Ledger, scratch_url: str, residents: int) -> Prepared:
    started = time.perf_counter()
    pepper = ledger.settings.resident_pepper
    filled = population.fill(ledger, scratch_url, residents, with_entries=True, pepper=pepper)
    months = history(ledger.clock())
    people = audit_history.staff()
    with ledger.sessions.begin() as session:
        audit_history.add_staff(session, people, ledger.clock())
    with population.connect(scratch_url) as connection:
        audit_events = audit_history.write_history(connection, people, months)
    with ledger.sessions.begin() as session:
        catch_up_audit_tree(session)
    population.add_officers(ledger)
    population.put_default_in_force(ledger)
    staff = console_county.add_staff(ledger)
    console_county.stock_gifts(ledger)
    with ledger.sessions.begin() as session:
        administration.add_platform(session, console_county.ACTOR, LIVE_PLATFORM.code,
                                    LIVE_PLATFORM.name, LIVE_PLATFORM.township, ledger.clock())
    private_key, last_seq = console_county.platform_key(ledger, LIVE_PLATFORM.code)
    rejections = console_county.refuse_events(ledger, EventSigner(private_key),
                                              LIVE_PLATFORM.code, months)
    version, simulation_id = console_county.approved_simulation(ledger)
    _vacuum_analyze(scratch_url)
    first_day = datetime.fromtimestamp(months[0].start_s, SHANGHAI).date()
    county = County(
        residents, pepper, (*(profile.code for profile in PLATFORMS), LIVE_PLATFORM.code),
        first_day, datetime.now(UTC).astimezone(SHANGHAI).date(),
        tuple(person.username for person in people),
        f"/console/rules/{version}/simulations/{simulation_id}")
    return Prepared(filled, audit_events, rejections, staff.passwords, county, private_key,
                    last_seq, time.perf_counter() - started)


def _vacuum_analyze(database_url: str) -> None:
    """The tables written after the fill, as autovacuum would leave them."""
    with population.connect(database_url, autocommit=True) as connection:
        for table in VACUUMED_TABLES:
            connection.execute(f"VACUUM (ANALYZE) {table}")


def _timed_run(ledger: Ledger, scratch: Settings, amqp_url: str, base_url: str,
               prepared: Prepared, requests: int,
               check_consumer: Callable[[], None]) -> ConsoleBenchResult:
    stream = EventStream(EventSigner(prepared.stream_key), LIVE_PLATFORM,
                         prepared.stream_last_seq + 1,
                         prepared.filled.residents, scratch.resident_pepper)
    publisher = SteadyPublisher(amqp_url, stream)
    visitors = Visitors(*(_signed_in(base_url, username, prepared.passwords[username])
                          for username in (console_county.TELLER, console_county.AUDITOR,
                                           console_county.RISK_OFFICER)))
    rounds = Rounds(visitors, prepared.county, VISIT_SEED)
    publisher.start()
    try:
        rounds.run(WARMUP_ROUNDS, Tally())
        check_consumer()
        tally = Tally()
        recorded_before, started = _live_recorded(ledger), time.perf_counter()
        rounds.run(requests, tally)
        seconds = time.perf_counter() - started
        recorded_in_window = _live_recorded(ledger) - recorded_before
        check_consumer()
    finally:
        publisher.stop()
        publisher.join()
    if publisher.failure is not None:
        raise BenchFailed(f"publishing the live events failed: {publisher.failure}")
    catch_up_s = _wait_for_consumer(ledger, publisher.published)
    with ledger.sessions() as session:
        entries = ledger_head(session).seq
        rejected = session.scalar(select(func.count()).select_from(Rejection).where(
            Rejection.platform == LIVE_PLATFORM.code,
            Rejection.event_id.like(f"{LIVE_PLATFORM.event_id_prefix}-live-%"))) or 0
    ingested = Ingested(publisher.published, recorded_in_window, seconds, catch_up_s, rejected)
    return ConsoleBenchResult(prepared, tally, entries, ingested, seconds)


def _signed_in(base_url: str, username: str, password: str) -> ConsoleClient:
    client = ConsoleClient(base_url)
    client.sign_in(username, password)
    return client


def _live_recorded(ledger: Ledger) -> int:
    """How many of the live platform's events the ledger holds."""
    with ledger.sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntryRow).where(
            LedgerEntryRow.platform == LIVE_PLATFORM.code)) or 0


def _wait_for_consumer(ledger: Ledger, published: int) -> float:
    """Seconds until every published event is recorded or refused; BenchFailed if the
    consumer fell behind by more than it catches up in CATCH_UP_S_MAX."""
    started = time.perf_counter()
    while True:
        with ledger.sessions() as session:
            refused = session.scalar(select(func.count()).select_from(Rejection).where(
                Rejection.platform == LIVE_PLATFORM.code,
                Rejection.event_id.like(f"{LIVE_PLATFORM.event_id_prefix}-live-%"))) or 0
        done = _live_recorded(ledger) + refused
        waited = time.perf_counter() - started
        if done >= published:
            return waited
        if waited > CATCH_UP_S_MAX:
            raise BenchFailed(f"the consumer did not keep up: {published - done} of {published} "
                              f"events were still not in the ledger {CATCH_UP_S_MAX:.0f} s "
                              "after the last was published")
        time.sleep(POLL_S)

