"""沥家园: the adapter contract, plus its own operations (SUB, CX) and unreadable bodies."""

from __future__ import annotations

from datetime import timedelta

import adapters.lijiayuan as lijiayuan
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.lijiayuan.simulator import native_record
from ledger.contract.categories import EventType
from tests.adapters.contract import NOW, AdapterContract


class TestLijiayuanContract(AdapterContract):
    adapter = lijiayuan


def test_sub_deducts_and_cx_revokes_the_award_with_its_points_and_category(
        tmp_path, key_pair_signer, resident_id) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'o.sqlite3'}", "lijiayuan")
    intake = Intake(lijiayuan.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                    clock=lambda: NOW)
    day = NOW - timedelta(days=2)
    intake.accept(lijiayuan.native_records(lijiayuan.payload([
        native_record("L1", resident_id, "LJFL", 5, day),
        native_record("L2", resident_id, "MQWS", 2, day, EventType.DEDUCTED),
        native_record("L3", resident_id, "GYHD", 99, day, EventType.REVOKED, revokes="L1"),
        native_record("L4", resident_id, "GYHD", 1, day, EventType.REVOKED, revokes="L404"),
    ]), "t"))
    bodies = [event.body for event in outbox.events.pending(10)]
    assert [b'"type":"points.awarded"' in bodies[0], b'"type":"points.deducted"' in bodies[1],
            b'"revokes":"lijiayuan:L1"' in bodies[2]] == [True, True, True]
    assert b'"points":5' in bodies[2] and b'"category":"garbage_sorting"' in bodies[2]
    assert [record.reason for record in outbox.quarantine.records()] == [
        "unknown_revocation_target"]
    outbox.close()


def test_an_unreadable_body_is_kept_whole() -> None:
    (record,) = lijiayuan.native_records(b"\xff{not json", "request 1")
    assert record.unreadable == "the body is not UTF-8 JSON"
