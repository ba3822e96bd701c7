"""`pointsledger status` on each database (SPEC §15): one JSON object of what an operator acts
on, exit 0 when all is well, exit 1 naming the cause when something needs a person."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine

from ledger.bootstrap import Ledger, build
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.note import open_note
from ledger.contract.note_keys import Verifier
from ledger.domain.outcomes import Status as Outcome
from ledger.domain.status import CHECKPOINT_WAIT_MAX_S, NOTICE_WAIT_MAX_S
from ledger.infra.db.locks import APPLICATION_NAME, ConsumerLock
from ledger.infra.db.models import OutboundNotice, Witness
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.service.checkpoints import CheckpointPolicy, log_signer
from ledger.service.status import gather_status
from ledger.service.witnesses import add_witness, record_cosignature
from ledger.worker.checkpointer import Checkpointer
from tests.conftest import _admin_connection, _database_url, make_settings
from tests.ledger.helpers import invoke
from tests.support import PlatformFixture, unique_name

NOW_POLICY = CheckpointPolicy(interval_s=0, poll_s=0)  # sign whatever grew, now


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # anything a command writes to var/ stays in the test's directory


def record(ledger: Ledger, platform: PlatformFixture, *seqs: int) -> None:
    outcomes = ledger.ingestor.ingest([platform.delivery(seq=seq) for seq in seqs])
    assert [outcome.status for outcome in outcomes] == [Outcome.RECORDED] * len(seqs)


def sign_checkpoints(ledger: Ledger) -> None:
    Checkpointer(ledger, NOW_POLICY).sign_due()


def status_of(database_url: str) -> tuple[Result, dict[str, Any]]:
    result = invoke(database_url, "status")
    return result, json.loads(result.stdout)


def test_all_is_well_exits_0_with_every_fact(ledger: Ledger, platform: PlatformFixture,
                                             database_url: str) -> None:
    record(ledger, platform, 1, 2, 3)
    sign_checkpoints(ledger)

    result, document = status_of(database_url)

    assert result.exit_code == 0, result.output
    assert document["problems"] == []
    assert document["mode"] == "embedded"
    assert document["head"]["seq"] == 3
    assert len(document["head"]["entry_hash"]) == 64
    ledger_checkpoint = document["checkpoints"]["ledger"]
    assert ledger_checkpoint["size"] == ledger_checkpoint["tree_size"] == 3
    assert 0 <= ledger_checkpoint["age_s"] < CHECKPOINT_WAIT_MAX_S
    assert ledger_checkpoint["cosigned_by"] == []
    audit = document["checkpoints"]["audit"]
    assert audit["tree_size"] == (audit["size"] or 0)  # nothing audited is nothing to sign
    assert document["queues"] is None  # embedded: no broker
    assert document["notices"] == {"pending": 0, "oldest_age_s": None}
    lijiayuan = document["platforms"]["lijiayuan"]
    assert lijiayuan["name"] == "沥家园"  # as registered (tests/support.py register_platform)
    assert lijiayuan["last_seq"] == 3 and lijiayuan["gaps"] == []
    assert 0 <= lijiayuan["last_event_age_s"] < 60
    assert document["witnesses"] == {"ledger": {}, "audit": {}}


def test_a_gap_exits_1_naming_the_platform_and_the_seqs(ledger: Ledger, platform: PlatformFixture,
                                                         database_url: str) -> None:
    record(ledger, platform, 1, 2, 4)
    sign_checkpoints(ledger)

    result, document = status_of(database_url)

    assert result.exit_code == 1
    assert document["platforms"]["lijiayuan"]["gaps"] == [[3, 3]]
    assert document["problems"] == ["platform lijiayuan has not sent seqs 3"]
    assert result.stderr.strip() == "platform lijiayuan has not sent seqs 3"


def test_entries_waiting_too_long_for_a_checkpoint_are_a_stale_checkpoint(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, platform, 1, 2)
    sign_checkpoints(ledger)
    record(ledger, platform, 3)  # and the checkpointer stopped

    soon = gather_status(ledger.sessions, None, datetime.now(UTC) + timedelta(minutes=1))
    later = gather_status(ledger.sessions, None, datetime.now(UTC) + timedelta(minutes=6))

    assert soon.problems == []
    assert [problem.kind for problem in later.problems] == ["checkpoint_stale"]
    (sentence,) = later.as_document()["problems"]
    assert sentence.startswith("the ledger log has grown to 3 but entries have waited")


def test_a_witness_owing_a_cosignature_over_five_minutes_is_named(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, platform, 1, 2)
    (signed,) = [row for row in Checkpointer(ledger, NOW_POLICY).sign_due()
                 if row.log == LEDGER_LOG]
    town, regulator = (CosignatureSigner(name, Ed25519PrivateKey.generate())
                       for name in ("witness.guali.gov.cn", "witness.regulator.example"))
    now = ledger.clock()
    with ledger.sessions.begin() as session:
        for name, key in (("guali", town), ("regulator", regulator)):
            add_witness(session, "test", name, f"https://{key.name}", key.vkey(), now)
        checkpoint = session.merge(signed)
        text = open_note(checkpoint.note, [Verifier.from_vkey(log_signer(
            ledger.settings.log_origin, LEDGER_LOG, ledger.ledger_key()).vkey())]).text
        record_cosignature(session, checkpoint, session.get_one(Witness, "guali"),
                           town.cosign(text, int(now.timestamp())), now, now)
    sign_checkpoints(ledger)  # the audit trail grew by the two registrations

    soon = gather_status(ledger.sessions, None, now + timedelta(minutes=1))
    later = gather_status(ledger.sessions, None, now + timedelta(minutes=6))

    assert soon.problems == []
    document = soon.as_document()
    assert document["checkpoints"]["ledger"]["cosigned_by"] == ["guali"]
    assert document["witnesses"]["ledger"] == {
        "guali": {"last_cosigned_size": 2, "last_cosigned_age_s": 60},
        "regulator": {"last_cosigned_size": None, "last_cosigned_age_s": None}}
    assert {(problem.kind, problem.values["witness"], problem.values["log"])
            for problem in later.problems} == {("witness_stale", "regulator", "ledger"),
                                               ("witness_stale", "guali", "audit"),
                                               ("witness_stale", "regulator", "audit")}


def test_notices_waiting_over_ten_minutes_to_be_relayed_are_a_problem(
        ledger: Ledger, platform: PlatformFixture) -> None:
    created = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        for number, published_at in enumerate([None, None, created]):
            session.add(OutboundNotice(
                notice_id=f"notice-{number}", platform=platform.code,
                routing_key=f"{platform.code}.redemption", body=b"{}", headers={},
                created_at=created, published_at=published_at))

    now = created + timedelta(seconds=NOTICE_WAIT_MAX_S + 60)
    found = gather_status(ledger.sessions, None, now)

    assert found.as_document()["notices"] == {"pending": 2, "oldest_age_s": 660}
    assert [problem.kind for problem in found.problems] == ["notices_waiting"]
    assert found.problems[0].values["count"] == 2  # the relayed one is not waiting


def test_the_consumer_lock_holder_is_named_on_postgresql(ledger: Ledger) -> None:
    before = gather_status(ledger.sessions, None, datetime.now(UTC)).as_document()
    lock = ConsumerLock(ledger.engine)
    try:
        assert lock.try_acquire()
        document = gather_status(ledger.sessions, None, datetime.now(UTC)).as_document()
    finally:
        lock.release()

    if ledger.engine.dialect.name == "sqlite":
        assert document["consumer_lock"]["known"] is False
        assert document["consumer_lock"]["holder"] is None
    else:
        holder = document["consumer_lock"]["holder"]
        assert holder["application_name"] == APPLICATION_NAME
        assert isinstance(holder["pid"], int)
        assert holder["client_address"] in ("127.0.0.1", "::1", None)
        assert before["consumer_lock"] == {"known": True, "holder": None}


def test_a_database_that_cannot_be_reached_exits_1_saying_so() -> None:
    result, document = status_of("postgresql+psycopg://postgres@127.0.0.1:1/nothing")

    assert result.exit_code == 1
    assert document["database"] == {"reachable": False}
    (sentence,) = document["problems"]
    assert sentence.startswith("the database cannot be reached or read:")
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_a_consumer_lock_held_on_another_database_is_not_this_ledgers(
        postgres_url: str, tmp_path: Path) -> None:
    """Advisory locks are per database: another ledger on the same server holds its own."""
    ours = build(make_settings(postgres_url, tmp_path=tmp_path))
    database = unique_name("pl_other")
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    other_engine = create_engine(_database_url(database))
    lock = ConsumerLock(other_engine)
    try:
        assert lock.try_acquire()
        document = gather_status(ours.sessions, None, datetime.now(UTC)).as_document()
    finally:
        lock.release()
        other_engine.dispose()
        ours.close()
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    assert document["consumer_lock"] == {"known": True, "holder": None}
