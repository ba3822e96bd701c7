"""No resident ID number ever reaches the ledger's database or its logs (SPEC §4.1, §4.5; issue
11, defect 3): a memo or source_ref holding one is refused, and everything refused is masked
before it is kept, with the SHA-256 of what arrived so a platform can match its own copy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.contract.resident_id import check_character
from ledger.domain.outcomes import Reason, Status
from tests.api.support import bearer, create_tokens, post_delivery
from tests.conftest import make_settings
from tests.ledger.helpers import entries, ingest_one, rejections
from tests.support import PlatformFixture, register_platform

FIRST_SEVENTEEN = "33010919800101123"
ID_NUMBER = FIRST_SEVENTEEN + check_character(FIRST_SEVENTEEN)
SPACED = f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}"
FULL_WIDTH = ID_NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
MASKED = f"{ID_NUMBER[:6]}********{ID_NUMBER[14:]}"
# Every form in which the number must never be found in a file the ledger wrote.
FORBIDDEN = [ID_NUMBER.encode(), SPACED.encode(), FULL_WIDTH.encode("utf-8"),
             ID_NUMBER[6:14].encode()]


@pytest.mark.parametrize("field", ["memo", "source_ref"])
@pytest.mark.parametrize("written", [ID_NUMBER, SPACED, FULL_WIDTH, f"sfzh:{ID_NUMBER}"])
def test_a_memo_or_source_ref_holding_an_id_number_is_schema_invalid(
        ledger: Ledger, platform: PlatformFixture, field: str, written: str) -> None:
    outcome = ingest_one(ledger, platform.delivery(**{field: f"核对 {written}"}))

    assert outcome.status is Status.REJECTED and outcome.reason is Reason.SCHEMA_INVALID
    assert outcome.errors == {field: "must not hold anything shaped like a resident ID number"}
    assert entries(ledger) == []
    [kept] = rejections(ledger)
    assert not any(form in kept.body for form in FORBIDDEN)
    assert b"********" in kept.body


def test_an_ordinary_memo_is_still_recorded(ledger: Ledger, platform: PlatformFixture) -> None:
    outcome = ingest_one(ledger, platform.delivery(memo="垃圾分类 第3周 13800138000",
                                                   source_ref="JF20261101000123"))
    assert outcome.status is Status.RECORDED


def test_a_native_record_posted_to_events_is_kept_masked_with_the_hash_of_what_arrived(
        client: FlaskClient, ledger: Ledger, platform: PlatformFixture) -> None:
    """A 沥家园 webhook sent to the ledger instead of its adapter: refused, and kept without
    the number it carries, in its body or in a header."""
    native = json.dumps({"jfjl_id": "JF1", "sfzh": ID_NUMBER, "jflx": "LJFL", "jfz": 5,
                         "fssj": "2026-11-01 09:30:00", "cz": "ADD"}).encode()
    headers = {"webhook-id": ID_NUMBER, "webhook-timestamp": "1795000000",
               "webhook-signature": "v1a,AAAA", "User-Agent": f"pusher {SPACED}"}
    tokens = create_tokens(ledger.sessions)

    response = client.post("/api/v1/events", data=native, headers=headers,
                           content_type="application/json")

    assert response.status_code == 422
    assert ID_NUMBER not in response.get_data(as_text=True)
    listed = client.get("/api/v1/rejections", headers=bearer(tokens.by_role["auditor"])).json
    [kept] = listed["items"]
    body = base64.b64decode(kept["body_base64"])
    assert body == native.replace(ID_NUMBER.encode(), MASKED.encode())
    assert kept["body_size"] == len(native)
    assert kept["body_sha256"] == hashlib.sha256(native).hexdigest()
    assert kept["headers"]["webhook-id"] == MASKED
    assert kept["headers"]["user-agent"] == f"pusher {ID_NUMBER[:6]} ******** {ID_NUMBER[14:]}"
    assert "sfzh" in kept["errors"], "the refusal still says what was wrong"


def test_an_id_number_in_an_unknown_field_name_or_as_the_event_id_is_masked_in_the_errors(
        ledger: Ledger, platform: PlatformFixture) -> None:
    event = {**platform.event(), ID_NUMBER: "x"}
    outcome = ingest_one(ledger, platform.delivery(event))
    assert outcome.errors == {MASKED: "unknown field"}

    forged = platform.delivery(event_id=ID_NUMBER)
    forged_headers = {**forged.headers, "webhook-signature": "v1a," + "A" * 86 + "=="}
    refused = ingest_one(ledger, type(forged)(forged.body, forged_headers, "http"))
    assert refused.reason is Reason.BAD_SIGNATURE and refused.event_id == MASKED
    assert [row.event_id for row in rejections(ledger)] == ["lijiayuan-1", MASKED]


def test_no_file_the_embedded_ledger_writes_holds_an_id_number(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every path an ID number can take into the embedded ledger, then every byte it wrote:
    the SQLite file, its WAL, and the log."""
    database = tmp_path / "ledger.sqlite3"
    from ledger.infra.db.migrate import upgrade

    upgrade(f"sqlite:///{database}")
    ledger = build(make_settings(f"sqlite:///{database}", tmp_path=tmp_path))
    try:
        platform = register_platform(ledger.sessions)
        tokens = create_tokens(ledger.sessions)
        client = create_app(ledger=ledger).test_client()
        with caplog.at_level(logging.DEBUG):
            _feed_id_numbers_everywhere(client, platform, tokens.by_role)
    finally:
        ledger.close()

    written = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    assert "ledger.sqlite3" in written
    written["log"] = caplog.text.encode("utf-8")
    for name, data in written.items():
        for form in FORBIDDEN:
            assert form not in data, f"{form!r} found in {name}"


def _feed_id_numbers_everywhere(client: FlaskClient, platform: PlatformFixture,
                                tokens: dict[str, str]) -> None:
    for written in (ID_NUMBER, SPACED, FULL_WIDTH):
        for field in ("memo", "source_ref"):
            post_delivery(client, platform.delivery(**{field: written}))
        post_delivery(client, platform.delivery(event_id="x", **{"sfzh": written}))
        client.post("/api/v1/events", data=json.dumps({"sfzh": written}).encode(),
                    headers={"webhook-id": written}, content_type="application/json")
        client.post("/api/v1/events", data=b"\xff not json " + written.encode(),
                    content_type="application/json")
        client.post("/api/v1/residents/lookup", json={"id_number": written},
                    headers=bearer(tokens["teller"]))
        client.get(f"/api/v1/residents/a{ID_NUMBER}", headers=bearer(tokens["teller"]))
    recorded = post_delivery(client, platform.delivery(memo="普通备注"))
    assert recorded.status_code == 201
