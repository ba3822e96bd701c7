"""SPEC §3, §4.3: a retired key still counts for its backlog for a grace period; a compromised key
counts for nothing received after it was declared, whatever timestamp its signatures carry.

Issue 11, defect 1: the revocation used to be compared with the signature's own timestamp, so
whoever held a leaked key backdated `webhook-timestamp` and was recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger, build
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import VerifiedEvent
from ledger.service import registry
from ledger.service.errors import Conflict
from tests.conftest import make_settings
from tests.ledger.helpers import balance, entries, ingest_one, rejections
from tests.support import RESIDENT_A, PlatformFixture, register_platform

GRACE = timedelta(days=7)
REVOKED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(REVOKED_AT - timedelta(days=30))


@pytest.fixture
def clocked_ledger(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    settings = make_settings(database_url, tmp_path=tmp_path)
    assert settings.retired_key_grace_s == GRACE.total_seconds(), "the SPEC's default"
    built = build(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def leaked(clocked_ledger: Ledger) -> PlatformFixture:
    return register_platform(clocked_ledger.sessions)


def _revoke(ledger: Ledger, key_id: str, at: datetime, compromised: bool = False) -> None:
    with ledger.sessions.begin() as session:
        registry.revoke_key(session, key_id, at, compromised=compromised)


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


BACKDATED = {
    "an-hour": REVOKED_AT - timedelta(hours=1),
    "a-day": REVOKED_AT - timedelta(days=1),
    "to-1970": datetime(1970, 1, 1, tzinfo=UTC),
}


@pytest.mark.parametrize("signed_at", BACKDATED.values(), ids=BACKDATED.keys())
def test_a_compromised_key_is_refused_however_far_back_the_signature_is_dated(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock,
        signed_at: datetime) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT, compromised=True)
    clock.now = REVOKED_AT + timedelta(minutes=5)
    # What the attacker sends: a huge award, dated (event and signature) before the declaration.
    forged = leaked.delivery(points=100_000, occurred_at=signed_at.isoformat(),
                             timestamp=_stamp(signed_at))

    outcome = ingest_one(clocked_ledger, forged)

    assert outcome.status is Status.REJECTED and outcome.reason is Reason.KEY_REVOKED
    assert "compromised" in outcome.detail
    assert entries(clocked_ledger) == []
    assert balance(clocked_ledger, RESIDENT_A, leaked.code)["spendable"] == 0
    [kept] = rejections(clocked_ledger)
    assert kept.reason == "key_revoked" and kept.body == forged.body


def test_what_a_compromised_key_signed_before_the_declaration_and_arrived_before_it_stands(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock) -> None:
    clock.now = REVOKED_AT - timedelta(minutes=1)
    earlier = leaked.delivery(timestamp=_stamp(clock.now))
    assert ingest_one(clocked_ledger, earlier).status is Status.RECORDED

    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT, compromised=True)
    clock.now = REVOKED_AT + timedelta(seconds=1)

    assert ingest_one(clocked_ledger, earlier).reason is Reason.KEY_REVOKED, (
        "even the same event again: nothing received after the declaration counts")
    assert len(entries(clocked_ledger)) == 1, "what was recorded before stays recorded"


def test_a_retired_key_still_signs_its_backlog_within_the_grace(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT)
    backlog = [leaked.delivery(timestamp=_stamp(REVOKED_AT - timedelta(hours=hours)))
               for hours in (1, 24, 24 * 30)]
    clock.now = REVOKED_AT + GRACE - timedelta(seconds=1)

    outcomes = clocked_ledger.ingestor.ingest(backlog)

    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 3


def test_a_retired_key_signs_nothing_after_its_retirement(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT)
    clock.now = REVOKED_AT + timedelta(minutes=1)

    outcome = ingest_one(clocked_ledger, leaked.delivery(timestamp=_stamp(clock.now)))

    assert outcome.reason is Reason.KEY_REVOKED and "retired" in outcome.detail


def test_after_the_grace_a_retired_keys_backlog_is_refused(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT)
    clock.now = REVOKED_AT + GRACE

    outcome = ingest_one(clocked_ledger,
                         leaked.delivery(timestamp=_stamp(REVOKED_AT - timedelta(hours=1))))

    assert outcome.reason is Reason.KEY_REVOKED and "grace" in outcome.detail
    assert entries(clocked_ledger) == []


def test_the_grace_is_a_setting(database_url: str, tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(database_url, tmp_path=tmp_path)
    ledger = build(type(settings)(**{**settings.__dict__, "retired_key_grace_s": 60}), clock)
    try:
        platform = register_platform(ledger.sessions)
        _revoke(ledger, platform.key_id, REVOKED_AT)
        clock.now = REVOKED_AT + timedelta(seconds=61)
        outcome = ingest_one(ledger, platform.delivery(timestamp=_stamp(REVOKED_AT) - 10))
    finally:
        ledger.close()
    assert outcome.reason is Reason.KEY_REVOKED


def test_a_retired_key_declared_compromised_later_loses_its_backlog(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT)
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT + timedelta(hours=2), compromised=True)
    clock.now = REVOKED_AT + timedelta(hours=3)

    outcome = ingest_one(clocked_ledger,
                         leaked.delivery(timestamp=_stamp(REVOKED_AT - timedelta(hours=1))))

    assert outcome.reason is Reason.KEY_REVOKED and "compromised" in outcome.detail


def test_a_compromise_declared_while_a_batch_is_verified_refuses_it_at_the_append(
        clocked_ledger: Ledger, leaked: PlatformFixture, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage one may have read the keys before the declaration committed; the append looks
    again, with the clock of the append."""
    clock.now = REVOKED_AT - timedelta(seconds=30)
    stale = clocked_ledger.ingestor.keyring()
    backdated = leaked.delivery(timestamp=_stamp(REVOKED_AT - timedelta(days=1)))
    verified = clocked_ledger.ingestor.verify([backdated], stale)
    assert isinstance(verified[0], VerifiedEvent)

    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT, compromised=True)
    clock.now = REVOKED_AT + timedelta(seconds=1)
    [outcome] = clocked_ledger.ingestor.ingest([backdated], verified=verified)

    assert outcome.reason is Reason.KEY_REVOKED
    assert entries(clocked_ledger) == []


def test_a_key_is_retired_once_and_declared_compromised_once(
        clocked_ledger: Ledger, leaked: PlatformFixture) -> None:
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT)
    with pytest.raises(Conflict, match="already retired"):
        _revoke(clocked_ledger, leaked.key_id, REVOKED_AT + timedelta(hours=1))
    _revoke(clocked_ledger, leaked.key_id, REVOKED_AT + timedelta(hours=1), compromised=True)
    with pytest.raises(Conflict, match="already declared compromised"):
        _revoke(clocked_ledger, leaked.key_id, REVOKED_AT + timedelta(hours=2), compromised=True)
