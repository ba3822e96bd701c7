"""平安共富积分: the adapter contract, plus its strict RFC 3339 times, the nested participant,
the simulator, and the /activities endpoint end to end in-process."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import adapters.pingan_gongfu as pingan_gongfu
from adapters.base.http_source import HttpSource, webhook_app
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.pingan_gongfu.simulator import generate, native_record
from ledger.contract.categories import EventType
from ledger.contract.signing import EventSigner
from tests.adapters.contract import BAD_ID_NUMBER, NOW, AdapterContract
from tests.support import TEST_PEPPER

DAY = NOW - timedelta(days=2)


class TestPinganGongfuContract(AdapterContract):
    adapter = pingan_gongfu


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", pingan_gongfu.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def intake(outbox: Outbox, key_pair_signer: EventSigner) -> Intake:
    return Intake(pingan_gongfu.Mapper(), outbox, key_pair_signer, TEST_PEPPER, clock=lambda: NOW)


def take(intake: Intake, records: list[dict[str, Any]]) -> Any:
    return intake.accept(pingan_gongfu.native_records(pingan_gongfu.payload(records), "t"))


@pytest.mark.parametrize("at", ["2026-11-18T08:00:00",  # naive: no offset
                                "2026-11-18 08:00:00+08:00",  # space for T
                                "2026-11-18T08:00+08:00",  # no seconds
                                "2026-11-18T08:00:00+0800",  # offset without colon
                                "2026-02-30T08:00:00+08:00",  # no such day
                                "1763452800000"])  # epoch milliseconds
def test_a_time_that_is_not_rfc3339_with_an_offset_is_a_bad_date(
        at: str, intake: Intake, outbox: Outbox, resident_id: str) -> None:
    report = take(intake, [native_record("P1", resident_id, "PATROL", 5, at)])
    assert report.accepted == 0
    assert [record.reason for record in outbox.quarantine.records()] == ["bad_date"]


@pytest.mark.parametrize("at", ["2026-11-18T00:00:00Z", "2026-11-18T08:00:00.250+08:00",
                                "2026-11-17T19:00:00-05:00"])
def test_rfc3339_times_with_any_offset_are_read_as_the_same_moment(
        at: str, intake: Intake, outbox: Outbox, resident_id: str) -> None:
    assert take(intake, [native_record("P1", resident_id, "PATROL", 5, at)]).accepted == 1
    (event,) = outbox.events.pending(10)
    occurred_at = datetime.fromisoformat(json.loads(event.body)["occurred_at"])
    assert occurred_at.replace(microsecond=0) == datetime(2026, 11, 18, tzinfo=UTC)


@pytest.mark.parametrize(("participant", "reason"), [
    ("330109199001011231", "bad_record"),  # the ID number without its object
    ([{"idNo": "x"}], "bad_record"),
    ({}, "bad_record"),  # no idNo
    ({"idNo": 330109199001011231}, "bad_id_number"),  # a number, not text
    ({"idNo": BAD_ID_NUMBER}, "bad_id_number"),
])
def test_a_participant_without_a_valid_id_number_is_refused(
        participant: object, reason: str, intake: Intake, outbox: Outbox,
        resident_id: str) -> None:
    record = native_record("P1", resident_id, "QUIZ", 3, DAY)
    record["participant"] = participant
    assert take(intake, [record]).accepted == 0
    (kept,) = outbox.quarantine.records()
    assert kept.reason == reason
    assert "330109199001011231" not in kept.record


@pytest.mark.parametrize("earned", [0, -5, 2.5, True])
def test_earned_must_be_a_positive_whole_number(earned: object, intake: Intake, outbox: Outbox,
                                                resident_id: str) -> None:
    assert take(intake, [native_record("P1", resident_id, "VIDEO", earned, DAY)]).accepted == 0
    assert [record.reason for record in outbox.quarantine.records()] == ["bad_points"]


def test_the_simulator_only_awards() -> None:
    with pytest.raises(ValueError, match="only awards"):
        native_record("P1", "x", "QUIZ", 1, DAY, EventType.DEDUCTED)
    assert set(pingan_gongfu.KINDS) == {EventType.AWARDED}


def test_generated_records_are_realistic_and_only_the_broken_ones_are_quarantined(
        intake: Intake, outbox: Outbox) -> None:
    records = generate(random.Random(3), 200, 8, NOW)
    report = take(intake, records)
    assert (report.accepted, len(report.quarantined)) == (200, 8)
    assert sorted({kept.reason for kept in outbox.quarantine.records()}) == [
        "bad_date", "bad_id_number", "bad_points", "unknown_category"]
    for record in records[:200]:
        if record["activityType"] == "PATROL":
            assert 19 <= int(record["at"][11:13]) < 23 and 5 <= record["earned"] <= 10
    assert len({record["participant"]["idNo"] for record in records}) < 200  # a shared pool


def test_make_source_needs_listen(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="give --listen HOST:PORT"):
        pingan_gongfu.make_source(SimpleNamespace(listen=None), outbox)
    source = pingan_gongfu.make_source(SimpleNamespace(listen=("127.0.0.1", 0)), outbox)
    assert isinstance(source, HttpSource)


class TestActivitiesEndpoint:
    @pytest.fixture
    def notices(self) -> list[None]:
        return []

    @pytest.fixture
    def client(self, intake: Intake, notices: list[None]) -> Any:
        app = webhook_app(pingan_gongfu.PLATFORM, pingan_gongfu.ACTIVITIES_PATH,
                          pingan_gongfu.native_records, intake, lambda: notices.append(None))
        return app.test_client()

    def test_an_array_is_answered_with_what_became_of_each_record(
            self, client: Any, outbox: Outbox, notices: list[None], resident_id: str) -> None:
        body = pingan_gongfu.payload([native_record("G1", resident_id, "WELFARE", 12, DAY),
                                      native_record("G2", resident_id, "DANCE", 3, DAY)])
        response = client.post("/activities", data=body, content_type="application/json")
        assert response.status_code == 200
        report = response.get_json()
        assert (report["accepted"], report["duplicates"]) == (1, 0)
        (refused,) = report["quarantined"]
        assert refused["reason"] == "unknown_category"
        assert refused["location"].startswith("request ") and refused["location"].endswith(
            " item 2")
        assert len(notices) == 1 and len(outbox.events.pending(10)) == 1

    def test_a_body_that_is_not_json_is_kept_and_answered_400(
            self, client: Any, outbox: Outbox, notices: list[None]) -> None:
        response = client.post("/activities", data=b"not json",
                               content_type="application/json")
        assert response.status_code == 400
        assert response.content_type == "application/problem+json"
        assert response.get_json()["title"] == "Unreadable body"
        (kept,) = outbox.quarantine.records()
        assert (kept.reason, kept.record) == ("bad_record", "not json")
        assert notices == []

    def test_a_body_too_large_is_refused_as_a_problem_and_the_refusal_kept(
            self, client: Any, outbox: Outbox) -> None:
        from adapters.base.http_source import BODY_SIZE_MAX_BYTES

        response = client.post("/activities", data=b"[" + b" " * BODY_SIZE_MAX_BYTES + b"]",
                               content_type="application/json")
        assert response.status_code == 413
        assert response.content_type == "application/problem+json"
        (kept,) = outbox.quarantine.records()
        assert kept.reason == "bad_record" and "larger than" in kept.detail
        assert outbox.status()["last_seq"] == 0
