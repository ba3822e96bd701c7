"""Helpers for tests of `pointsledger adapter run` as a real process: its key file and
environment, the process itself, its outbox, and what the ledger must hold once it has consumed
everything the adapter signed."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base.outbox.events import PUBLISHED_THROUGH
from adapters.base.outbox.tables import adapter_state, outbox_events
from ledger.contract.categories import EntryKind
from ledger.contract.webhook import encode_private_key
from ledger.infra.db.models import Balance, LedgerEntryRow
from ledger.runtime.database import make_engine
from ledger.service.chain_audit import audit_chain
from ledger.service.platform_seq import gaps_of
from tests.amqp.support import rejections, wait_until
from tests.support import register_platform

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
ADAPTER_START_TIMEOUT_S = 30.0
ADAPTER_STOP_TIMEOUT_S = 10.0
LISTENING = re.compile(r"receives at (http://[^\s/]+:\d+)/")
CONSUMER_OUTCOMES = re.compile(r"appended (\d+) recorded, (\d+) duplicate and (\d+) rejected")


@dataclass(frozen=True)
class AdapterSetup:
    """A registered platform's adapter: its key file, its outbox and its environment (the broker
    and the pepper only: an adapter needs nothing of the ledger's database)."""

    platform: str
    key_file: Path
    outbox_path: Path
    environment: dict[str, str]
    workdir: Path

    @property
    def outbox_url(self) -> str:
        return f"sqlite:///{self.outbox_path}"


def adapter_setup(sessions: sessionmaker[Session], platform: str,
                  consumer_env: dict[str, str], tmp_path: Path) -> AdapterSetup:
    registered = register_platform(sessions, platform)
    key_file = tmp_path / f"{platform}.key"
    key_file.write_text(encode_private_key(registered.private_key) + "\n", encoding="ascii")
    environment = {name: value for name, value in consumer_env.items()
                   if name not in ("POINTSLEDGER_DATABASE_URL", "POINTSLEDGER_LEDGER_KEY_FILE")}
    workdir = tmp_path / f"adapter-{platform}"
    workdir.mkdir()
    return AdapterSetup(platform, key_file, workdir / "outbox.sqlite3", environment, workdir)


class AdapterRun:
    """`pointsledger adapter run PLATFORM …` as a real process, logging into `log_path`."""

    def __init__(self, setup: AdapterSetup, source_arguments: Sequence[str], log_path: Path,
                 environment: dict[str, str] | None = None) -> None:
        self._log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [POINTSLEDGER, "adapter", "run", setup.platform, "--key-file", str(setup.key_file),
             "--outbox", setup.outbox_url, *source_arguments],
            env=environment or setup.environment, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=setup.workdir)

    def log(self) -> str:
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def base_url(self) -> str:
        """Where it listens (started with port 0: the port it logged)."""
        wait_until(lambda: not self.alive() or LISTENING.search(self.log()) is not None,
                   ADAPTER_START_TIMEOUT_S, "the adapter to listen")
        found = LISTENING.search(self.log())
        assert found is not None, f"the adapter exited at start:\n{self.log()}"
        return found.group(1)

    def terminate(self) -> int:
        """SIGTERM, then the exit code (bounded wait)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=ADAPTER_STOP_TIMEOUT_S)

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=ADAPTER_STOP_TIMEOUT_S)

    def close(self) -> None:
        try:
            self.kill()
        finally:
            self._log.close()


@contextlib.contextmanager
def running_adapter(setup: AdapterSetup, source_arguments: Sequence[str], log_path: Path,
                    environment: dict[str, str] | None = None) -> Iterator[AdapterRun]:
    adapter = AdapterRun(setup, source_arguments, log_path, environment)
    try:
        yield adapter
    finally:
        adapter.close()


def cli_status(setup: AdapterSetup) -> dict[str, Any]:
    """`pointsledger adapter status` (its JSON, without the platform)."""
    completed = subprocess.run(
        [POINTSLEDGER, "adapter", "status", setup.platform, "--outbox", setup.outbox_url],
        env=setup.environment, cwd=setup.workdir, capture_output=True, text=True, timeout=60,
        check=False)
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    assert document.pop("platform") == setup.platform
    return document


def outbox_status(setup: AdapterSetup) -> dict[str, int]:
    """The outbox's counts read straight from its file (cheaper than `adapter status` to poll;
    a read never takes the write lock the running adapter needs)."""
    engine = make_engine(setup.outbox_url)
    try:
        with engine.connect() as connection:
            last_seq = connection.scalar(select(func.coalesce(func.max(outbox_events.c.seq), 0)))
            through = connection.scalar(select(adapter_state.c.value)
                                        .where(adapter_state.c.name == PUBLISHED_THROUGH))
    finally:
        engine.dispose()
    published_through = 0 if through is None else int(through)
    return {"backlog": int(last_seq or 0) - published_through, "last_seq": int(last_seq or 0),
            "published_through": published_through}


def signed_bodies(setup: AdapterSetup) -> list[dict[str, object]]:
    """Every event the adapter signed, in seq order, as the outbox keeps it."""
    engine = make_engine(setup.outbox_url)
    try:
        with engine.connect() as connection:
            bodies = connection.scalars(select(outbox_events.c.body)
                                        .order_by(outbox_events.c.seq)).all()
    finally:
        engine.dispose()
    return [json.loads(body) for body in bodies]


def expected_spendable(bodies: Sequence[dict[str, object]]) -> dict[str, int]:
    """Balances from what the adapter signed: awards add, deductions and revocations subtract."""
    totals: Counter[str] = Counter()
    for body in bodies:
        points = body["points"]
        assert isinstance(points, int)
        totals[str(body["resident"])] += EntryKind(body["type"]).delta_sign * points
    return dict(totals)


def platform_entries(sessions: sessionmaker[Session], platform: str) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntryRow)
                              .where(LedgerEntryRow.platform == platform)) or 0


def assert_ledger_holds_exactly(sessions: sessionmaker[Session], setup: AdapterSetup) -> None:
    """Each event the adapter signed recorded once: platform seqs 1..N without gap or double,
    the same event ids, no rejection, an intact chain, and balances that add up."""
    bodies = signed_bodies(setup)
    assert [body["seq"] for body in bodies] == list(range(1, len(bodies) + 1))
    with sessions() as session:
        recorded = session.execute(
            select(LedgerEntryRow.platform_seq, LedgerEntryRow.event_id)
            .where(LedgerEntryRow.platform == setup.platform)
            .order_by(LedgerEntryRow.platform_seq)).all()
        assert [tuple(row) for row in recorded] == \
            [(body["seq"], body["event_id"]) for body in bodies]
        assert gaps_of(session, setup.platform) == []
        report = audit_chain(session)
        assert report.intact, report.problem
        stored = dict(session.execute(select(Balance.resident, Balance.spendable)
                                      .where(Balance.platform == setup.platform)).all())
    assert rejections(sessions) == []
    assert stored == expected_spendable(bodies)


def consumer_outcomes(log: str) -> tuple[int, int, int]:
    """(recorded, duplicate, rejected) events summed over the consumer's outcome log lines."""
    totals = [0, 0, 0]
    for found in CONSUMER_OUTCOMES.finditer(log):
        for index in range(3):
            totals[index] += int(found.group(index + 1))
    return totals[0], totals[1], totals[2]
