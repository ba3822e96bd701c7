"""Reading the ledger's tables back in tests, independently of the API."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.verification import Delivery
from ledger.infra.db.models import (
    Balance,
    LedgerEntryRow,
    MonthlyContribution,
    Platform,
    Rejection,
)
from ledger.service.platform_seq import gaps_of
from tests.support import TEST_PEPPER, PlatformFixture

BALANCE_COLUMNS = ("earned", "deducted", "revoked", "redeemed", "spendable")


def now_s() -> int:
    return int(datetime.now(UTC).timestamp())


def ingest_one(ledger: Ledger, delivery: Delivery) -> Outcome:
    (outcome,) = ledger.ingestor.ingest([delivery])
    return outcome


def entries(ledger: Ledger) -> list[LedgerEntryRow]:
    with ledger.sessions() as session:
        return list(session.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.seq)))


def rejections(ledger: Ledger) -> list[Rejection]:
    with ledger.sessions() as session:
        return list(session.scalars(select(Rejection).order_by(Rejection.id)))


def balance(ledger: Ledger, resident: str, platform: str) -> dict[str, int]:
    """The balance columns; all zero for a resident the platform never mentioned."""
    with ledger.sessions() as session:
        row = session.get(Balance, (resident, platform))
        if row is None:
            return dict.fromkeys(BALANCE_COLUMNS, 0)
        return {column: getattr(row, column) for column in BALANCE_COLUMNS}


def contributions(ledger: Ledger) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """(resident, platform, category, month) -> awarded, revoked, deducted, deductions."""
    with ledger.sessions() as session:
        return {
            (row.resident, row.platform, row.category, row.month): {
                "awarded": row.awarded, "revoked": row.revoked,
                "deducted": row.deducted, "deductions": row.deductions,
            }
            for row in session.scalars(select(MonthlyContribution))
        }


def seq_tracking(ledger: Ledger, platform: str) -> tuple[int, list[tuple[int, int]]]:
    """The platform's last_seq and its gaps, as stored."""
    with ledger.sessions() as session:
        row = session.get(Platform, platform)
        assert row is not None
        return row.last_seq, gaps_of(session, platform)


@dataclass(frozen=True)
class Snapshot:
    """Everything an event could change, to show that something changed nothing."""

    entry_count: int
    head_hash: str | None
    rejection_count: int
    balances: dict[tuple[str, str], tuple[int, ...]]
    contributions: dict[tuple[str, str, str, str], dict[str, int]]
    platforms: dict[str, tuple[int, list[tuple[int, int]]]]


def snapshot(ledger: Ledger) -> Snapshot:
    with ledger.sessions() as session:
        entry_count = session.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0
        head_hash = session.scalar(
            select(LedgerEntryRow.entry_hash).order_by(LedgerEntryRow.seq.desc()).limit(1))
        rejection_count = session.scalar(select(func.count()).select_from(Rejection)) or 0
        balances = {
            (row.resident, row.platform): tuple(getattr(row, column) for column in BALANCE_COLUMNS)
            for row in session.scalars(select(Balance))
        }
        codes = list(session.scalars(select(Platform.code)))
    platforms = {code: seq_tracking(ledger, code) for code in codes}
    return Snapshot(entry_count, head_hash, rejection_count, balances, contributions(ledger),
                    platforms)


def lowered(headers: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in headers.items()}


def invoke(database_url: str, *arguments: str, **environment: str | None) -> Result:
    """Run `pointsledger ARGUMENTS` in-process against DATABASE_URL, outside any broker;
    keyword arguments set (or, with None, unset) further POINTSLEDGER_* variables."""
    from ledger.cli.main import cli  # the whole command line, as the console script runs it

    env: dict[str, str | None] = {
        "POINTSLEDGER_DATABASE_URL": database_url,
        "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
        "POINTSLEDGER_AMQP_URL": None,
        "POINTSLEDGER_CLOCK_SKEW_S": None,
        "POINTSLEDGER_LEDGER_KEY_FILE": None,
    }
    env.update({f"POINTSLEDGER_{name.upper()}": value for name, value in environment.items()})
    return CliRunner().invoke(cli, list(arguments), env=env, catch_exceptions=False)


def raw_delivery(platform: PlatformFixture, body: bytes, webhook_id: str = "raw-1",
                 timestamp: int | None = None) -> Delivery:
    """Exact bytes, validly signed by the platform: only the body itself can be wrong."""
    signed = platform.signer.sign_body(webhook_id, body, timestamp)
    return Delivery(signed.body, signed.headers, "http")


def signed_by_a_stranger(platform: PlatformFixture) -> Delivery:
    stranger = EventSigner(Ed25519PrivateKey.generate())
    signed = stranger.sign(platform.event())
    return Delivery(signed.body, signed.headers, "http")


def assert_rejected_and_kept(ledger: Ledger, delivery: Delivery, reason: Reason) -> Outcome:
    """The outcome is the rejection, and the rejections table holds the input whole."""
    before = snapshot(ledger)
    outcome = ingest_one(ledger, delivery)
    assert outcome.status is Status.REJECTED, outcome
    assert outcome.reason is reason, outcome
    kept = rejections(ledger)[-1]
    assert kept.reason == reason.value
    assert kept.body == delivery.body
    assert kept.body_size == len(delivery.body)
    assert kept.headers == lowered(delivery.headers)
    assert kept.detail == outcome.detail and kept.detail
    assert (kept.errors or {}) == outcome.errors
    after = snapshot(ledger)
    assert after.rejection_count == before.rejection_count + 1
    assert replace(after, rejection_count=before.rejection_count) == before, \
        "a rejected event changed the ledger"
    return outcome
